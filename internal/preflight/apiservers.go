package preflight

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/drill-sre/drill/internal/monitor"
)

// checkAPIServers checks that every API server answers its own /readyz,
// reached directly at its address in the default/kubernetes Service's
// EndpointSlices, and that the API answers /readyz through the kubeconfig's
// server (the load balancer, on an HA cluster). An API server that stopped
// drops out of those endpoints once its lease expires, so there must be
// as many of them as control-plane nodes (when the control plane runs on
// nodes the cluster shows).
func checkAPIServers(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface, nodes nodeSnapshot) Check {
	var problems []string
	var servers []string
	if cs == nil {
		problems = append(problems, "no Kubernetes client given to read the API servers' endpoints")
	} else {
		var err error
		servers, err = retryTransient(ctx, func(ctx context.Context) ([]string, error) {
			return monitor.APIServerEndpoints(ctx, cs)
		})
		if err != nil {
			problems = append(problems, err.Error())
		}
	}
	front := strings.TrimSuffix(cfg.Host, "/") + "/readyz"

	// Ask every server, and the front, at once.
	errs := make([]error, len(servers)+1)
	var wg sync.WaitGroup
	for i, hp := range servers {
		wg.Go(func() { errs[i] = readyz(ctx, cfg, "https://"+hp+"/readyz") })
	}
	wg.Go(func() { errs[len(servers)] = readyz(ctx, cfg, front) })
	wg.Wait()

	ready := 0
	for i, hp := range servers {
		if errs[i] != nil {
			problems = append(problems, fmt.Sprintf("%s not ready: %v", hp, errs[i]))
			continue
		}
		ready++
	}
	if err := errs[len(servers)]; err != nil {
		problems = append(problems, fmt.Sprintf("the API through %s not ready: %v", cfg.Host, err))
	}
	if cps := nodes.controlPlane(); servers != nil && len(servers) < len(cps) {
		problems = append(problems, missingServers(servers, cps))
	}

	var summary string // none when the endpoints are unknown
	switch {
	case len(problems) == 0:
		summary = fmt.Sprintf("%s ready (%s), and the API through %s", plural(len(servers), "API server"), strings.Join(servers, ", "), cfg.Host)
	case servers != nil:
		summary = fmt.Sprintf("%d of %d API servers ready", ready, len(servers))
	}
	if nodes.err != nil && servers != nil {
		summary += " (not compared with the control-plane nodes, which could not be read)"
	}
	return verdict(CheckAPIServers, problems, summary)
}

// readyz GETs a /readyz URL once with cfg's credentials (again only after a
// transient network error) and fails unless it answers 2xx.
func readyz(ctx context.Context, cfg *rest.Config, url string) error {
	h, err := monitor.NewAPICheck(cfg, url, monitor.NewConnections)
	if err != nil {
		return err
	}
	defer h.Close()
	_, err = retryTransient(ctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, h.Check(ctx)
	})
	return err
}

// missingServers describes fewer API server endpoints than control-plane
// nodes, naming the nodes none of the endpoints is at, when the endpoints
// are at the nodes' addresses at all.
func missingServers(servers []string, cps []corev1.Node) string {
	hosts := map[string]bool{}
	for _, hp := range servers {
		if h, _, err := net.SplitHostPort(hp); err == nil {
			hosts[h] = true
		}
	}
	var missing []string
	for _, n := range cps {
		var addrs []string
		found := false
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP || a.Type == corev1.NodeExternalIP {
				addrs = append(addrs, a.Address)
				found = found || hosts[a.Address]
			}
		}
		if !found {
			missing = append(missing, fmt.Sprintf("%s (%s)", n.Name, strings.Join(addrs, ", ")))
		}
	}
	p := fmt.Sprintf("%s for %s", plural(len(servers), "API server endpoint"), plural(len(cps), "control-plane node"))
	if len(missing) > 0 && len(missing) < len(cps) {
		p += ", none at " + strings.Join(missing, ", ")
	}
	return p
}
