package monitor

// Locators of what a drill samples. Samplers record under them; faults and
// reports find their intervals by them.
const (
	// LocatorAPINew and LocatorAPIReused: the Kubernetes API's /readyz
	// through the load balancer, over new and reused connections.
	LocatorAPINew    = "api/load-balancer connection/new"
	LocatorAPIReused = "api/load-balancer connection/reused"
	// LocatorEtcdLeader: state, the leading member's name.
	LocatorEtcdLeader = "etcd/leader"
	// LocatorEtcdMembers: state, the members' names.
	LocatorEtcdMembers = "etcd/members"
	// LocatorControllerManagerLease and LocatorSchedulerLease: state, the
	// node whose component holds the leader lease.
	LocatorControllerManagerLease = "lease/kube-controller-manager"
	LocatorSchedulerLease         = "lease/kube-scheduler"
	// LocatorApp: the workload through its node port, from outside.
	LocatorApp = "app/node-port"
	// LocatorReadyPods: state, the workload's Ready pods.
	LocatorReadyPods = "pods/ready"
	// LocatorDisruptionsAllowed: state, the workload PDB's
	// status.disruptionsAllowed.
	LocatorDisruptionsAllowed = "pdb/disruptions-allowed"
	// LocatorRollout: state, the workload Deployment's rollout.
	LocatorRollout = "deployment/rollout"
)

// LocatorAPIServer is one API server's own /readyz, at host:port.
func LocatorAPIServer(hostPort string) string { return "apiserver/" + hostPort + " path/readyz" }

// LocatorEtcdMember is one etcd member's health, by name.
func LocatorEtcdMember(name string) string { return "etcd/member/" + name }

// LocatorFault is the interval a fault was in place: from injection to the
// end of its revert.
func LocatorFault(faultType string) string { return "fault/" + faultType }
