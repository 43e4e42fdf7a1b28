package monitoring

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/kind/pkg/log"
	"sigs.k8s.io/yaml"

	"github.com/drill-sre/drill/fixtures"
	"github.com/drill-sre/drill/internal/kube"
)

// kinds are the kinds of object Deploy applies, with their resources.
var kinds = map[schema.GroupVersionKind]struct {
	resource   schema.GroupVersionResource
	namespaced bool
}{
	{Version: "v1", Kind: "Namespace"}:      {schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, false},
	{Version: "v1", Kind: "ServiceAccount"}: {schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}, true},
	{Version: "v1", Kind: "ConfigMap"}:      {schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, true},
	{Version: "v1", Kind: "Secret"}:         {schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, true},
	{Version: "v1", Kind: "Service"}:        {schema.GroupVersionResource{Version: "v1", Resource: "services"}, true},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}: {
		schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}, false},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRoleBinding"}: {
		schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}, false},
	{Group: "apps", Version: "v1", Kind: "Deployment"}: {schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, true},
	{Group: "apps", Version: "v1", Kind: "DaemonSet"}:  {schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"}, true},
}

// manifests decodes every object of fixtures.MonitoringFiles, in order.
func manifests() ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	for _, file := range fixtures.MonitoringFiles {
		o, err := decodeManifest(file)
		if err != nil {
			return nil, err
		}
		objs = append(objs, o...)
	}
	if len(objs) == 0 || objs[0].GetKind() != "Namespace" || objs[0].GetName() != fixtures.MonitoringNamespace {
		return nil, fmt.Errorf("%s does not start with namespace %s", fixtures.MonitoringFiles[0], fixtures.MonitoringNamespace)
	}
	return objs, nil
}

// resources returns what Deploy applies, in order: the namespace, the
// generated ConfigMaps and Alertmanager's Secret, then the manifests of fixtures.MonitoringFiles, the
// Prometheus and Alertmanager pod templates stamped with the hash of their
// configuration (ConfigHashAnnotation). opts is defaulted, its rules set.
func resources(opts Options, targets Targets) ([]*unstructured.Unstructured, error) {
	promCfg, err := prometheusConfig(opts, targets)
	if err != nil {
		return nil, err
	}
	amCfg, err := alertmanagerConfigFile(opts)
	if err != nil {
		return nil, err
	}
	rules := map[string]any{}
	ruleNames := make([]string, 0, len(opts.Rules))
	for name, raw := range opts.Rules {
		rules[name] = string(raw)
		ruleNames = append(ruleNames, name)
	}
	slices.Sort(ruleNames)
	ruleParts := [][]byte{promCfg}
	for _, n := range ruleNames {
		ruleParts = append(ruleParts, []byte(n), opts.Rules[n])
	}
	hashes := map[string]string{"prometheus": configHash(ruleParts...), "alertmanager": configHash(amCfg)}

	objs, err := manifests()
	if err != nil {
		return nil, err
	}
	ns := objs[0].GetName()
	configMaps := []*unstructured.Unstructured{
		configMap(ns, PrometheusConfigMap, map[string]any{"prometheus.yml": string(promCfg)}),
		configMap(ns, RulesConfigMap, rules),
		secret(ns, AlertmanagerConfigSecret, map[string][]byte{"alertmanager.yml": amCfg}),
	}
	for _, u := range objs {
		if h, ok := hashes[u.GetName()]; ok && u.GetKind() == "Deployment" {
			if err := unstructured.SetNestedField(u.Object, h, "spec", "template", "metadata", "annotations", ConfigHashAnnotation); err != nil {
				return nil, fmt.Errorf("deployment %s: %w", u.GetName(), err)
			}
			delete(hashes, u.GetName())
		}
	}
	if len(hashes) > 0 {
		return nil, fmt.Errorf("the manifests lack the Deployments %v", hashes)
	}
	return slices.Concat(objs[:1], configMaps, objs[1:]), nil
}

func configMap(namespace, name string, data map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{
			"name": name, "namespace": namespace,
			"labels": map[string]any{"app.kubernetes.io/part-of": fixtures.MonitoringNamespace},
		},
		"data": data,
	}}
}

// secret is a Secret holding data: what carries a credential (the
// webhook's token in alertmanager.yml), readable only by those who may
// read Secrets.
func secret(namespace, name string, data map[string][]byte) *unstructured.Unstructured {
	enc := map[string]any{}
	for k, v := range data {
		enc[k] = base64.StdEncoding.EncodeToString(v)
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata": map[string]any{
			"name": name, "namespace": namespace,
			"labels": map[string]any{"app.kubernetes.io/part-of": fixtures.MonitoringNamespace},
		},
		"data": enc,
	}}
}

// decodeManifest reads every object of one of fixtures.Monitoring's files,
// refusing kinds Deploy does not know how to apply.
func decodeManifest(file string) ([]*unstructured.Unstructured, error) {
	raw, err := fixtures.Monitoring.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if len(u.Object) == 0 {
			continue // comments only
		}
		k, ok := kinds[u.GroupVersionKind()]
		if !ok {
			return nil, fmt.Errorf("%s: %s %s is not a kind Deploy applies", file, u.GroupVersionKind(), u.GetName())
		}
		if k.namespaced != (u.GetNamespace() != "") {
			return nil, fmt.Errorf("%s: %s %s in namespace %q: want a namespace for namespaced kinds only", file, u.GetKind(), u.GetName(), u.GetNamespace())
		}
		objs = append(objs, u)
	}
}

// applier server-side applies objects of the known kinds.
type applier struct {
	dyn dynamic.Interface
}

// newApplier returns an applier for the cluster cfg reaches. The API
// server's warnings (a headless Service's ignored session affinity) go to
// logger at V(1), once each, unless cfg has its own handler.
func newApplier(cfg *rest.Config, logger log.Logger) (*applier, error) {
	cfg = rest.CopyConfig(cfg)
	if cfg.WarningHandler == nil && cfg.WarningHandlerWithContext == nil {
		cfg.WarningHandlerWithContext = &kube.Warnings{Say: func(m string) { logger.V(1).Infof("   API server warning: %s", m) }}
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client for %s: %w", cfg.Host, err)
	}
	return &applier{dyn: dyn}, nil
}

// apply server-side applies every object as FieldManager, taking over fields
// others set.
func (d *deployer) apply(ctx context.Context, objs []*unstructured.Unstructured) error {
	for _, u := range objs {
		kube.MarkManaged(u)
		k := kinds[u.GroupVersionKind()]
		var ri dynamic.ResourceInterface = d.dyn.dyn.Resource(k.resource)
		if k.namespaced {
			ri = d.dyn.dyn.Resource(k.resource).Namespace(u.GetNamespace())
		}
		if _, err := ri.Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err != nil {
			return fmt.Errorf("apply %s %s: %w", u.GetKind(), objectName(u.GetNamespace(), u.GetName()), err)
		}
	}
	return nil
}

func objectName(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}
