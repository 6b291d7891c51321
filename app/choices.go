package app

import "github.com/flowsleuth/flowsleuth/ingest/printable"

// tagChoices are the options of a tag select: the tags as a person may see
// them (tags are log text: printable.Field), after a first option that
// names no tag, and the tag each option stands for.
type tagChoices struct {
	tags map[string]string // option → tag, where they differ
}

// options returns the select's options for tags, after first.
func (c *tagChoices) options(first string, tags []string) []string {
	c.tags = map[string]string{}
	opts := append(make([]string, 0, len(tags)+1), first)
	for _, t := range tags {
		o := tagOption(t)
		if o != t {
			c.tags[o] = t
		}
		opts = append(opts, o)
	}
	return opts
}

// tag returns the tag an option stands for.
func (c *tagChoices) tag(option string) string {
	if t, ok := c.tags[option]; ok {
		return t
	}
	return option
}

// tagOption is the option of tag.
func tagOption(tag string) string { return printable.Field(tag) }
