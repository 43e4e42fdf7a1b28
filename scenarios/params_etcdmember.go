package scenarios

import "time"

// FaultRemoveEtcdMember removes a member from etcd, then adds it back as a
// fresh member. Params: *RemoveEtcdMemberParams.
const FaultRemoveEtcdMember FaultType = "remove-etcd-member"

// EtcdMember is the member remove-etcd-member removes.
type EtcdMember string

// etcd members.
const (
	MemberLeader   EtcdMember = "leader"
	MemberFollower EtcdMember = "follower" // chosen with the drill's seed
	MemberRandom   EtcdMember = "random"   // chosen with the drill's seed
)

// RemoveEtcdMemberParams are the parameters of remove-etcd-member.
type RemoveEtcdMemberParams struct {
	// Member is the member to remove. Required.
	Member EtcdMember `yaml:"member"`
	// ReaddTimeout bounds the wait for the member, added back with an empty
	// data directory, to catch up and be healthy. Required.
	ReaddTimeout time.Duration `yaml:"readdTimeout"`
}

// FaultType implements FaultParams.
func (*RemoveEtcdMemberParams) FaultType() FaultType { return FaultRemoveEtcdMember }

func (*RemoveEtcdMemberParams) onlyRole() Role { return RoleControlPlane }

func (p *RemoveEtcdMemberParams) setDefaults(func(string) bool, string) {}

func (p *RemoveEtcdMemberParams) validate(v *validator, s *Scenario, path string) {
	if oneOf(v, join(path, "member"), p.Member, MemberLeader, MemberFollower, MemberRandom) && p.Member == MemberLeader {
		notNarrowed(v, s, join(path, "member"), p.Member)
	}
	v.duration(join(path, "readdTimeout"), p.ReaddTimeout, true)
}
