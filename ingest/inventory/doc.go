// Package inventory reads the VM inventories admins already have, so that
// conversations can be labelled with VM names and groups (vSphere tags,
// Nutanix categories, NSX security groups).
//
// [Read] takes a CSV or XLSX file (told apart by content: an XLSX file is a
// zip archive), finds the header row within the first 10 rows, finds the
// columns by their header names and returns one [VM] per VM name. Header
// names are compared case-insensitively with everything but letters and
// digits removed, so "IP Addresses", "ip_addresses" and "IP-Addresses" are
// the same column.
//
// # Formats
//
// RVTools XLSX ("rvtools"): sheets vInfo and vNetwork, merged by VM name.
//
//	vInfo:    VM, Powerstate, Template, DNS Name, Primary IP Address, …, Folder, Annotation, …
//	vNetwork: VM, Powerstate, …, Network, Adapter, Mac Address, IPv4 Address, IPv6 Address, …
//
// RVTools' own CSV export names the same columns by tab and field
// ("vInfoVMName", "vInfoPrimaryIPAddress", "vNetworkVMName",
// "vNetworkIP4Address"); the tab prefix is ignored, so those files read as
// RVTools too. An IP cell may hold several addresses separated by ", ", ";"
// or line breaks. RVTools has no tag column of its own: groups come from a
// sheet named like "vTag" or "Tags", or from a column named like "Tags",
// "Security Groups" or "Categories". Folder, Annotation and custom attribute
// columns are never groups (a folder is where a VM is kept, not what it is);
// when there is no group column, [Report.Notes] says so.
//
// Prism Central VM list export ("prism-central"):
//
//	VM Name, Host, IP Addresses, Cores, Memory Capacity, …, Power State, Cluster, Categories
//
// with values such as "10.3.0.30, 10.3.0.31" and "AppTier: Web,
// Environment: Production". Each category becomes the group "AppTier:Web".
// Scripts built on the Prism Central API export the same data as vm_name,
// ip_addresses and categories ("AppTier:Web"), which read the same way.
//
// Simple CSV ("simple"): only name, IP and group columns, such as
// "name,ip,tags", "vm,ips,groups" or "hostname,address,security_groups".
// Lists inside a cell are separated by ",", ";" or "|".
//
// Generic ("generic"): any other CSV or XLSX table with a column recognisable
// as a VM name and one as IP addresses.
//
// CSV files may start with a UTF-8 byte order mark, use CRLF line ends and
// use ",", ";" or tab as the delimiter. For XLSX files other than RVTools
// the first sheet with a recognisable header is used.
//
// # Rules
//
//   - Rows with neither a name nor an IP address are blank and skipped
//     silently.
//   - Rows with the same VM name are merged: the union of their addresses
//     and groups. Names are compared exactly (after trimming spaces).
//   - A VM left without a valid address is skipped and reported, with the
//     row of its first address-less row ("no valid IP address in \"Primary
//     IP Address\": \"n/a\"").
//   - An invalid address in a list is ignored and reported; the rest of the
//     list is kept.
//   - Link-local addresses (fe80::/10 and 169.254.0.0/16), loopback,
//     unspecified and multicast addresses are dropped without a report: they
//     do not identify a VM, and link-local ones repeat from VM to VM.
//   - An address claimed by two VMs stays with the first; the conflict is
//     reported, naming both.
//
// # Sources for the column names
//
// RVTools: the tab and column reference in
// github.com/bankielewicz/rvtools-sql-server-data-warehouse
// (docs/reference/rvtools-tabs.md: vInfo "VM", "Primary IP Address",
// "Folder", "Annotation"; vNetwork "VM", "IPv4 Address", "IPv6 Address") and
// the CSV-to-XLSX header map in github.com/sbroenne/RvToolsMerge
// (docs/ColumnMappings.md: vInfoVMName → VM, vInfoPrimaryIPAddress →
// Primary IP Address). Prism Central: the list view columns as exported to
// CSV (VM Name, Host, IP Addresses, …, Categories) as used by public Prism
// Central import fixtures, and github.com/sbourdeaud/nutanix
// (prism/prism-central/get-PcVmCategories.ps1: vm_name, ip_addresses,
// categories as "Key:Value").
//
// # Limits
//
// The input is untrusted: at most 1,000,000 data rows, 64 KiB per cell and
// 1 MiB per CSV record. XLSX files may be at most 64 MiB and unzip to at
// most 256 MiB; rows are streamed with excelize's Rows iterator and cells
// are read raw (no number formats). Before excelize opens a workbook, its
// XML is scanned in constant memory for what UnzipSizeLimit does not
// bound: shared strings copied into thousands of cells, deep nesting, and
// encodings other than UTF-8.
package inventory
