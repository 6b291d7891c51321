package export

import (
	"cmp"
	"fmt"
	"strings"
)

// Nutanix Flow Network Security bodies, from a rules.Set. A Flow policy
// secures groups of workloads named by categories, each with allow lists
// of what may come in and go out; anything else is denied (in Monitor mode,
// logged as such). Rules map onto it as follows:
//
//   - The secured groups are the rules' monitored endpoints: with an
//     inventory, their category sets ({AppType:Books, AppTier:Web}: the
//     application's category ANDed with the tier); without, the category of
//     VendorOptions.SecuredCategory (the seed workflow's
//     Traffic-Discovery:Application-X) or a placeholder.
//   - INBOUND rules are inbound entries on the destination's group whose
//     peer is the source; OUTBOUND rules outbound entries on the source's
//     group. An INTRA rule between two groups is both: an outbound entry on
//     the source's group towards the destination's categories and an
//     inbound entry on the destination's group from the source's, since a
//     connection passes both ends' lists. An INTRA rule inside one group
//     allows traffic inside it: v3 default_internal_policy ALLOW_ALL, v4
//     INTRA_GROUP ALLOW, for every service (v3 and v4.0 cannot name
//     services there: reported as changed); a group without one is DENY.
//   - Peers: Kind Any is any address (v3 peer ALL, v4 allow spec ALL); a
//     peer with categories is that category set, ANDed (v3 FILTER params
//     with CATEGORIES_MATCH_ALL; v4 a list of references, see
//     WriteNutanixV4), so the app tier of Books is not every App VM of the
//     estate; other peers (IP sets, prefixes, groups without a category)
//     give one subnet per member. v3 cannot say IPv6 peers.
//   - Services: TCP and UDP ranges as integer {start, end} pairs (0-65535
//     for a rule without ports); ICMP by type when the rule's Ports hold
//     types, else any (also for type 0, which the logs use for "unknown").
//     Flow carries no other protocol, nor ICMPv6 in v3.
//   - Each entry keeps its rule's name (v3 network_rule description, cut to
//     64 characters; v4 rule description, with the user's description).
//
// What cannot be said is reported in a *LossError, never silently dropped.
// Policies are written in monitor mode unless VendorOptions.Apply is set.

// DefaultPolicyName names the policy when VendorOptions.PolicyName is empty.
const DefaultPolicyName = "FlowSleuth discovered policy"

// PlaceholderCategory stands for the secured workloads when
// VendorOptions.SecuredCategory is empty. It must be replaced before the
// policy is applied; Prism Central rejects categories that do not exist.
const PlaceholderCategory = "FlowSleuth:CHANGE-ME"

// VendorOptions name what the logs cannot tell.
type VendorOptions struct {
	// PolicyName names the policy (DefaultPolicyName when empty). It is cut
	// to the vendor's limit: 64 characters in v3, 63 in v4.
	PolicyName string
	// SecuredCategory is the category "Key:Value" of the secured
	// (monitored) workloads: the Nutanix target group, and in NSX the VM
	// tag scope "Key", tag "Value". When empty, Nutanix bodies use
	// PlaceholderCategory and NSX a group of the monitored addresses that
	// the rules name.
	SecuredCategory string
	// Apply enforces the policy: Nutanix APPLY (v3) or ENFORCE (v4) instead
	// of MONITOR, and the NSX boundary rule enabled instead of disabled.
	Apply bool

	// NSXGroups maps NSX security groups (rule tags) to their paths, for
	// groups outside /infra/domains/default/groups/<tag>.
	NSXGroups map[string]string
	// NSXSequence is the NSX policy's sequence_number; 0 means
	// DefaultNSXSequence.
	NSXSequence int
	// AppGroup is the path of the NSX group of the whole application
	// (SGTSBOOKS): the boundary rule's Applied To. Empty: the groups the
	// rules are applied to.
	AppGroup string
	// NSXHistory are the ids of the NSX objects exported before under this
	// policy (NSXObjectIDs): rule ids, and "groups/ID" for IP-set groups.
	// Those the body no longer has are marked for delete.
	NSXHistory []string

	// CategoryIDs maps Nutanix categories ("Key:Value") to their extIds,
	// from a saved Prism Central categories list (ReadCategoryIDs); v4
	// bodies write placeholders only for the categories it lacks.
	CategoryIDs map[string]string
	// Update is the saved GET of the existing (discovery) policy
	// (ReadExistingPolicy): the bodies then update it instead of creating a
	// second policy on the same category.
	Update *ExistingPolicy
}

func (o VendorOptions) policyName() string { return cmp.Or(o.PolicyName, DefaultPolicyName) }

// securedCategory returns the secured category, PlaceholderCategory when
// none is set, and an error wrapping ErrBadOption when it is not Key:Value.
func (o VendorOptions) securedCategory() (string, error) {
	if o.SecuredCategory == "" {
		return PlaceholderCategory, nil
	}
	k, v, ok := vndCategory(o.SecuredCategory)
	if !ok {
		return "", fmt.Errorf("secured category %q: want Key:Value: %w", o.SecuredCategory, ErrBadOption)
	}
	return k + ":" + v, nil
}

// vndCategory splits a category "Key:Value"; ok is false for other names.
func vndCategory(s string) (key, value string, ok bool) {
	key, value, ok = strings.Cut(s, ":")
	key, value = strings.TrimSpace(key), strings.TrimSpace(value)
	return key, value, ok && key != "" && value != "" && !strings.Contains(value, ":")
}
