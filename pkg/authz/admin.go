package authz

// IDs of permission groups the API refers to by meaning.
const (
	GroupClusterAdmin = "73728b8af7ef08ad87e3e451e7ec6600"
	GroupClusterRead  = "a151ad207b4a7cfd67297c155838aab5"
	GroupTokensWrite  = "686d18d5ac6c441c867cbf6771e58a0a"
	GroupAccountWrite = "1af1fa2adc104452b74a9a3364202f20"
	GroupKVWrite      = "f7f0eda5697f475c90846e879bab8666"
	GroupD1Write      = "09b2857d1c31407795e75e3fed8617a1"
	GroupDOWrite      = "6f59d500c9adfed4f9771ea55169e045"
)

// AdminPolicies are the policies of the cluster's bootstrap admin token:
// Cluster Admin on the cluster, API Tokens Write on every user, and the
// write groups of every account-scoped service on every account. The
// operator's token is the one token that reaches tenant data everywhere;
// it should be used to create scoped tokens, not by applications.
func AdminPolicies() []Policy {
	return []Policy{
		{Effect: Allow, Resources: map[string]string{ClusterResource: "*"},
			PermissionGroups: []GroupRef{{ID: GroupClusterAdmin}, {ID: GroupClusterRead}}},
		{Effect: Allow, Resources: map[string]string{AllUsers: "*"},
			PermissionGroups: []GroupRef{{ID: GroupTokensWrite}}},
		{Effect: Allow, Resources: map[string]string{AllAccounts: "*"},
			PermissionGroups: []GroupRef{{ID: GroupAccountWrite}, {ID: GroupKVWrite}, {ID: GroupD1Write}, {ID: GroupDOWrite}}},
	}
}
