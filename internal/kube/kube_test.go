package kube

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPoll(t *testing.T) {
	var said []string
	n := 0
	err := Poll(t.Context(), time.Millisecond, time.Second, "three calls", func(d string) { said = append(said, d) }, func(context.Context) (bool, string, error) {
		n++
		return n == 3, "call " + string(rune('0'+n)), nil
	})
	if err != nil || n != 3 || strings.Join(said, ",") != "call 1,call 2,call 3" {
		t.Errorf("done after %d calls, said %q, error %v", n, said, err)
	}

	err = Poll(t.Context(), time.Millisecond, 20*time.Millisecond, "never", nil, func(context.Context) (bool, string, error) {
		return false, "still 2/3 ready", nil
	})
	if err == nil || !strings.Contains(err.Error(), "waiting 20ms for never") || !strings.Contains(err.Error(), "(last seen: still 2/3 ready)") {
		t.Errorf("timeout error %v, want the wait and the last state named", err)
	}

	stop := errors.New("location Unavailable")
	err = Poll(t.Context(), time.Millisecond, time.Second, "stopped", nil, func(context.Context) (bool, string, error) {
		return false, "", stop
	})
	if !errors.Is(err, stop) {
		t.Errorf("error %v, want cond's error as is", err)
	}
}

func TestReadiness(t *testing.T) {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}
	if ok, desc := DeploymentReady(d); !ok {
		t.Errorf("available deployment not ready: %s", desc)
	}
	d.Status.ObservedGeneration = 1
	if ok, _ := DeploymentReady(d); ok {
		t.Error("a deployment whose new spec is not observed is ready")
	}
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 1, AvailableReplicas: 1}
	if ok, _ := DeploymentReady(d); ok {
		t.Error("a deployment with an old replica is ready")
	}

	ds := &appsv1.DaemonSet{}
	if ok, _ := DaemonSetReady(ds); ok {
		t.Error("a daemonset no node was counted for is ready")
	}
	ds.Status = appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, NumberReady: 2, UpdatedNumberScheduled: 3, NumberAvailable: 2}
	if ok, _ := DaemonSetReady(ds); ok {
		t.Error("a daemonset with 2/3 pods ready is ready")
	}
	ds.Status.NumberReady, ds.Status.NumberAvailable = 3, 3
	if ok, desc := DaemonSetReady(ds); !ok {
		t.Errorf("daemonset with 3/3 ready: %s", desc)
	}
}

func TestPodProblems(t *testing.T) {
	pods := []corev1.Pod{{
		ObjectMeta: metav1.ObjectMeta{Name: "prometheus-1"},
		Spec:       corev1.PodSpec{NodeName: "drill-worker"},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
			Name:  "prometheus",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImageNeverPull", Message: "image not present"}},
		}, {
			Name:                 "reloader",
			RestartCount:         2,
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: "a\nb\nc\nbad flag"}},
		}}},
	}, {
		ObjectMeta: metav1.ObjectMeta{Name: "prometheus-2"},
		Status: corev1.PodStatus{
			Conditions:            []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Message: "0/6 nodes are available"}},
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "init", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}}},
		},
	}}
	got := PodProblems(pods, "load the images")
	want := []string{
		"pod prometheus-1 (node drill-worker) container prometheus: ErrImageNeverPull: image not present (load the images)",
		"pod prometheus-1 container reloader restarted 2 times, last exit 1 (Error): b | c | bad flag",
		"pod prometheus-2 unschedulable: 0/6 nodes are available",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWarningsSaysEachWarningOnce(t *testing.T) {
	var said []string
	w := &Warnings{Say: func(m string) { said = append(said, m) }}
	for _, m := range []string{"unknown field x", "unknown field x", "deprecated y"} {
		w.HandleWarningHeaderWithContext(t.Context(), 299, "", m)
	}
	w.HandleWarningHeaderWithContext(t.Context(), 199, "", "not a warning")
	if got, want := strings.Join(said, ","), "unknown field x,deprecated y"; got != want {
		t.Errorf("said %q, want %q", got, want)
	}
}
