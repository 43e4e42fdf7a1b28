package framework

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/fixtures"
	"github.com/drill-sre/drill/internal/alerts"
	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/monitoring"
)

// MonitoringConfig says where drills read alerts from.
type MonitoringConfig struct {
	// PrometheusURL and AlertmanagerURL name a cluster's own monitoring
	// (staging): drill reads them and deploys nothing. Empty: drill
	// deploys its stack (fixtures/monitoring) and reads that.
	PrometheusURL   string
	AlertmanagerURL string
	// ScrapeInterval and EvaluationInterval are those of the stack drill
	// deploys (default 15s each). With PrometheusURL they are read from
	// that Prometheus' configuration instead.
	ScrapeInterval     time.Duration
	EvaluationInterval time.Duration
	// WebhookListen is where the webhook receiver listens. With a deployed
	// stack it defaults to the host's address on the cluster's network,
	// port DefaultWebhookPort; with PrometheusURL it is off unless set,
	// and the cluster's Alertmanager must route to it.
	WebhookListen string
	// WebhookToken is the bearer token the receiver wants when the
	// cluster's own Alertmanager routes to it (PrometheusURL and
	// WebhookListen set): that Alertmanager must send it
	// (http_config.authorization.credentials). It comes from the
	// environment only (DRILL_WEBHOOK_TOKEN), never a flag, which any user
	// of the machine would see. With drill's own stack a random token is
	// made for each run.
	WebhookToken string
}

// DefaultWebhookPort is the webhook receiver's port on the host.
const DefaultWebhookPort = 19093

// MonitoringFromEnv reads a MonitoringConfig from DRILL_PROMETHEUS_URL,
// DRILL_ALERTMANAGER_URL, DRILL_SCRAPE_INTERVAL,
// DRILL_EVALUATION_INTERVAL, DRILL_WEBHOOK_LISTEN and DRILL_WEBHOOK_TOKEN.
func MonitoringFromEnv() (MonitoringConfig, error) {
	mc := MonitoringConfig{
		PrometheusURL: Env("DRILL_PROMETHEUS_URL", ""), AlertmanagerURL: Env("DRILL_ALERTMANAGER_URL", ""),
		WebhookListen: Env("DRILL_WEBHOOK_LISTEN", ""),
		WebhookToken:  Env("DRILL_WEBHOOK_TOKEN", ""),
	}
	for _, v := range []struct {
		name string
		d    *time.Duration
	}{{"DRILL_SCRAPE_INTERVAL", &mc.ScrapeInterval}, {"DRILL_EVALUATION_INTERVAL", &mc.EvaluationInterval}} {
		if s := Env(v.name, ""); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 {
				return mc, fmt.Errorf("%s=%q: want a positive duration such as 15s", v.name, s)
			}
			*v.d = d
		}
	}
	return mc, nil
}

// The alert source of this process: one per cluster, made once, and its
// receiver kept listening for every drill.
var (
	monitoringMu  sync.Mutex
	monitoringSrc *alerts.Source
)

// CurrentMonitoring is the alert source Monitoring made, nil before.
func CurrentMonitoring() *alerts.Source {
	monitoringMu.Lock()
	defer monitoringMu.Unlock()
	return monitoringSrc
}

// Monitoring returns the alert source drills read: the cluster's own
// Prometheus when mc names one, else drill's stack, deployed (idempotently)
// with its images loaded where the provider can, and a webhook receiver on
// the host for its Alertmanager. It is made once per process.
func Monitoring(ctx context.Context, p cluster.Provider, cfg *rest.Config, cs kubernetes.Interface, mc MonitoringConfig, logger log.Logger) (*alerts.Source, error) {
	monitoringMu.Lock()
	defer monitoringMu.Unlock()
	if monitoringSrc != nil {
		return monitoringSrc, nil
	}
	if logger == nil {
		logger = log.NoopLogger{}
	}
	var (
		src *alerts.Source
		err error
	)
	if mc.PrometheusURL != "" {
		src, err = existingMonitoring(ctx, mc)
	} else {
		src, err = deployMonitoring(ctx, p, cfg, cs, mc, logger)
	}
	if err != nil {
		return nil, err
	}
	monitoringSrc = src
	return src, nil
}

func existingMonitoring(ctx context.Context, mc MonitoringConfig) (*alerts.Source, error) {
	var receiver *alerts.Receiver
	if mc.WebhookListen != "" {
		token := mc.WebhookToken
		if token == "" {
			token = os.Getenv("DRILL_WEBHOOK_TOKEN")
		}
		if token == "" {
			return nil, errors.New("the webhook receiver takes only notifications that carry a token: set DRILL_WEBHOOK_TOKEN, and have your Alertmanager send it as the bearer credentials of the webhook (http_config.authorization.credentials)")
		}
		r, err := alerts.Listen(mc.WebhookListen, token)
		if err != nil {
			return nil, err
		}
		receiver = r
	}
	src, err := alerts.NewSource(mc.PrometheusURL, mc.AlertmanagerURL, mc.ScrapeInterval, max(mc.EvaluationInterval, time.Second), receiver)
	if err != nil {
		return nil, err
	}
	scrape, eval, err := src.Intervals(ctx)
	if err != nil {
		return nil, err
	}
	src.ScrapeInterval, src.EvaluationInterval = scrape, eval
	return src, nil
}

func deployMonitoring(ctx context.Context, p cluster.Provider, cfg *rest.Config, cs kubernetes.Interface, mc MonitoringConfig, logger log.Logger) (*alerts.Source, error) {
	listen := mc.WebhookListen
	if listen == "" {
		ha, ok := p.(cluster.HostAddresser)
		if !ok {
			return nil, fmt.Errorf("cluster %s: drill cannot tell where its nodes reach this machine for Alertmanager's webhook: set the receiver's address (DRILL_WEBHOOK_LISTEN, --webhook-listen)", p.Name())
		}
		host, err := ha.HostAddress(ctx)
		if err != nil {
			return nil, err
		}
		listen = net.JoinHostPort(host, strconv.Itoa(DefaultWebhookPort))
	}
	if loader, ok := p.(cluster.ImageLoader); ok {
		logger.V(0).Infof("loading the monitoring images %v into the nodes", fixtures.MonitoringImages)
		start := time.Now()
		if _, err := loader.LoadImages(ctx, fixtures.MonitoringImages...); err != nil {
			return nil, err
		}
		logger.V(0).Infof("monitoring images loaded in %s", time.Since(start).Round(time.Second))
	}
	// A random token for this run, which only Alertmanager's configuration
	// (a Secret) carries.
	receiver, err := alerts.Listen(listen, "")
	if err != nil {
		return nil, err
	}
	stack, err := monitoring.Deploy(ctx, cs, cfg, monitoring.Options{
		ScrapeInterval: mc.ScrapeInterval, EvaluationInterval: mc.EvaluationInterval,
		WebhookURL: receiver.URL(), WebhookToken: receiver.Token(),
	}, logger)
	if err != nil {
		_ = receiver.Close()
		return nil, fmt.Errorf("deploy drill's monitoring: %w", err)
	}
	src, err := alerts.NewSource(stack.PrometheusURL, stack.AlertmanagerURL, stack.ScrapeInterval, stack.EvaluationInterval, receiver)
	if err != nil {
		_ = receiver.Close()
		return nil, err
	}
	return src, nil
}
