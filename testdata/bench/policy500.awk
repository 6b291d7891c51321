# policy500.awk: an NSX Policy API body of 500 rules over the estate of
# distinct.awk's conversations (sources 10/8, destinations 172.16.x.1, TCP
# ports 1024-51023), for timing 'flowsleuth check' beside 'flowsleuth
# rules'. 200 IP groups of one destination each; 400 rules allow a /16 of
# sources to a group on three ports, 50 on a range of 500 ports, 40 allow
# everything from a /12, 10 drop a /17. Usage:
#   awk -f testdata/bench/policy500.awk > policy500.json
BEGIN {
	printf "{\"resource_type\": \"Infra\", \"children\": [{\"resource_type\": \"ChildResourceReference\", \"id\": \"default\", \"target_type\": \"Domain\", \"children\": [\n"
	for (g = 0; g < 200; g++)
		printf "{\"resource_type\": \"ChildGroup\", \"Group\": {\"resource_type\": \"Group\", \"id\": \"sg%d\", \"expression\": [{\"resource_type\": \"IPAddressExpression\", \"ip_addresses\": [\"172.16.%d.1\"]}]}},\n", g, g
	printf "{\"resource_type\": \"ChildSecurityPolicy\", \"SecurityPolicy\": {\"resource_type\": \"SecurityPolicy\", \"id\": \"bench\", \"category\": \"Application\", \"sequence_number\": 1, \"children\": [\n"
	for (i = 0; i < 500; i++) {
		src = sprintf("10.%d.0.0/16", i % 16); action = "ALLOW"; svc = "\"services\": [\"ANY\"]"
		if (i < 400)
			svc = sprintf("\"service_entries\": [{\"resource_type\": \"L4PortSetServiceEntry\", \"l4_protocol\": \"TCP\", \"destination_ports\": [\"%d\", \"%d\", \"%d\"]}]", 1024 + i * 100, 1025 + i * 100, 1026 + i * 100)
		else if (i < 450)
			svc = sprintf("\"service_entries\": [{\"resource_type\": \"L4PortSetServiceEntry\", \"l4_protocol\": \"TCP\", \"destination_ports\": [\"%d-%d\"]}]", 20000 + i * 40, 20499 + i * 40)
		else if (i < 490)
			src = sprintf("10.%d.0.0/12", (i % 16) * 16)
		else {
			src = sprintf("10.%d.128.0/17", i % 16); action = "DROP"
		}
		printf "{\"resource_type\": \"ChildRule\", \"Rule\": {\"resource_type\": \"Rule\", \"id\": \"r%d\", \"sequence_number\": %d, \"source_groups\": [\"%s\"], \"destination_groups\": [\"/infra/domains/default/groups/sg%d\"], %s, \"action\": \"%s\", \"direction\": \"IN_OUT\"}}%s\n", \
			i, i + 1, src, i % 200, svc, action, (i < 499 ? "," : "")
	}
	printf "]}}]}]}\n"
}
