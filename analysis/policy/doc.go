// Package policy evaluates firewall policies against observed conversations:
// what an NSX distributed firewall policy or a Nutanix Flow Network Security
// policy would do to the traffic FlowSleuth saw in the logs. It is an
// independent oracle: written from the vendors' documentation and API models,
// never from FlowSleuth's exporters, so that it can judge them.
//
// # Use
//
// Load reads a policy file (the format is detected from the content), Merge
// puts several together, Set.Compile resolves names against an Env (the VM
// inventory, group members, category ids, the default rule) and
// Program.Evaluate returns one Verdict per conversation: allowed, blocked, or
// would block (a policy in monitor mode), the deciding rule, where it was
// decided ("OUT at 10.20.10.11 (web-01)") and why. Program.Problems lists
// every reference that could not be resolved; verdicts it could change say so
// in Uncertain. Nothing is guessed: an unknown group, category or service is
// taken not to match, and reported.
//
// A connection between two protected workloads must pass the source's egress
// and the destination's ingress; the first point that blocks decides. An end
// that no policy protects has no enforcement point.
//
// # NSX (Policy API, distributed firewall)
//
// Sources: VMware's Go SDK models (vsphere-automation-sdk-go
// services/nsxt/model: SecurityPolicy, Rule, Group, the Expression and
// ServiceEntry types), terraform-provider-nsxt docs/resources/
// policy_security_policy.md, and the NSX documentation on rule direction.
//
//   - Categories in order Ethernet (layer 2: a DROP there blocks, an ALLOW
//     passes on to layer 3), Emergency, Infrastructure, Environment,
//     Application, then policies without a category; within a category,
//     policies by sequence_number, then their rules by sequence_number (file
//     order breaks ties); the first matching rule decides, else the default
//     Layer-3 rule (Env.Default, allow unless told otherwise).
//   - A policy's scope (Applied To) takes precedence over its rules' scopes;
//     no scope means every workload.
//   - Direction IN is checked at the destination's vNIC, OUT at the source's,
//     IN_OUT at both. A workload is protected when it is a VM of the
//     inventory, in Env.Protected, marked monitored by the conversation's
//     direction, or in some rule's scope.
//   - Sources and destinations: group paths, addresses, CIDRs, ranges, "ANY"
//     (or nothing), negated by sources_excluded / destinations_excluded.
//     Groups: IPAddressExpression, PathExpression, NestedExpression and
//     Condition (Tag "scope|tag", Name) joined by AND/OR, resolved through the
//     inventory (a VM group "Key:Value" is scope Key, tag Value; a bare group
//     is a tag with no scope) or Env.Groups; a group a body references but
//     does not define resolves from Env.Groups or from the VMs naming it.
//   - Services by path (the bodies' Service objects and a few predefined ones:
//     HTTP, HTTPS, SSH, DNS, DNS-UDP, NTP, ICMP-ALL, ICMPv6-ALL) and
//     service_entries (L4 port sets, ICMP types, IP protocols, ALGs, nested
//     services). A restriction on source ports cannot be decided from
//     conversations and is reported as uncertain.
//   - Actions ALLOW, DROP, REJECT and JUMP_TO_APPLICATION (skips the rest of
//     Environment); disabled rules and objects marked_for_delete are ignored
//     (Env.EnableDisabled evaluates disabled rules as if switched on);
//     connectivity_preference ALLOWLIST/DENYLIST adds the policy's default
//     rule in its scope.
//
// # Nutanix Flow Network Security (Prism Central v3 and v4)
//
// Sources: the v3 swagger (nutanix-cloud-native/prism-go-client
// v3/swagger.json), the v4 microseg models (nutanix/ntnx-api-golang-clients
// microseg-go-client/v4), terraform-provider-nutanix's
// network_security_policy_v2 docs, and the Flow glossary for isolation and
// quarantine policies.
//
//   - Policies in force: v3 APPLY and MONITOR, v4 ENFORCE and MONITOR; a v4
//     policy saved (SAVE, or no state) is not in force. A monitor policy
//     blocks nothing; what it would block is WouldBlock.
//   - Isolation policies first: traffic between the two groups is blocked in
//     either direction. A quarantined VM is governed by its quarantine policy
//     alone. Otherwise each end's secured groups decide: the source's
//     outbound list and the destination's inbound list; what no allow-list
//     entry admits is blocked (v3: an empty outbound list of an app rule
//     allows nothing, of a quarantine rule everything). Entries of all the
//     groups a VM is in add up.
//   - Peers: ALL (AllowSpec ALL), categories (v3 filters with
//     CATEGORIES_MATCH_ALL / _ANY; v4 category references resolved through
//     Env.CategoryIDs or the "<extId of Key:Value>" placeholders FlowSleuth
//     writes), subnets, address groups (from the files or Env.Groups).
//     Services: protocol ALL/TCP/UDP/ICMP with port ranges and ICMP types
//     (v3: no protocol means every protocol), v4 tcp/udp/icmp services,
//     isAllProtocolAllowed, service groups from the files.
//   - Traffic between two members of one secured group: the intra-group
//     action (v3 default_internal_policy, v4 INTRA_GROUP); none written is
//     taken as DENY.
//   - IPv6: v3 rules match IPv4 only (allow_ipv6_traffic lets IPv6 by); v4
//     isIpv6TrafficAllowed lets it by regardless of the rules.
//
// # Where the documentation is silent
//
// Two readings are options, each defaulting to the conservative one (the one
// that predicts a block, so that a gate built on it does not wave through a
// change that breaks traffic):
//
//   - CategoryMatch: how several categories in one v4 reference list combine.
//     The v4 models say only "a list of categories"; MatchAllKeys (default)
//     ANDs different keys and ORs values of one key, as the v3
//     CATEGORIES_MATCH_ALL filter that v4 replaces; MatchAny ORs them all.
//   - IntraGroup: whether an allow-list entry may admit traffic between two
//     members of one secured group. The v3 swagger calls
//     default_internal_policy the "Default policy for communication within
//     target group" without saying whether entries override it;
//     IntraGroupOnly (default) decides by it alone.
//
// The order of AND and OR in a mixed NSX expression list is not documented
// either: AND binds tighter, as the NSX UI's criteria are built.
package policy
