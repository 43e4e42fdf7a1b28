package agent

import (
	"context"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestLease(t *testing.T) {
	ctx := context.Background()
	renewed := metav1.NewMicroTime(time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC))
	cs := fake.NewClientset(&coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: "drill-agents", Name: "isolate-node1"},
		Spec:       coordinationv1.LeaseSpec{RenewTime: &renewed},
	})
	l := Lease{Client: cs, Namespace: "drill-agents", Name: "isolate-node1"}
	got, ask, err := l.Read(ctx)
	if err != nil || !got.Equal(renewed.Time) || ask {
		t.Fatalf("read %v, %v, %v: want the renew time and no revert asked", got, ask, err)
	}
	if err := l.Report(ctx, "injected isolate"); err != nil {
		t.Fatal(err)
	}
	le, err := cs.CoordinationV1().Leases("drill-agents").Get(ctx, "isolate-node1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if le.Annotations[AnnotationState] != "injected isolate" || le.Annotations[AnnotationStateAt] == "" {
		t.Errorf("annotations %v", le.Annotations)
	}
	le.Annotations[AnnotationRevert] = "true"
	if _, err := cs.CoordinationV1().Leases("drill-agents").Update(ctx, le, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, ask, err := l.Read(ctx); err != nil || !ask {
		t.Errorf("revert asked: read %v, %v", ask, err)
	}
	if _, _, err := (Lease{Client: cs, Namespace: "drill-agents", Name: "gone"}).Read(ctx); err == nil {
		t.Errorf("a missing lease read without error")
	}
}
