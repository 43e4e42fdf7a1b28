package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"sigs.k8s.io/kind/pkg/cluster/nodes"
)

// kubeadm's etcd PKI on control-plane nodes.
const (
	etcdCA         = "/etc/kubernetes/pki/etcd/ca.crt"
	etcdClientCert = "/etc/kubernetes/pki/etcd/healthcheck-client.crt"
	etcdClientKey  = "/etc/kubernetes/pki/etcd/healthcheck-client.key"
	etcdClientPort = "2379"
)

// EtcdConfig implements EtcdAccess: one endpoint per control-plane node
// (https://<container IP>:2379, reachable from the host) and kubeadm's
// etcd health-check client certificate, read out of a control-plane node.
func (k *Kind) EtcdConfig(ctx context.Context) (clientv3.Config, error) {
	if err := k.mustExist(ctx); err != nil {
		return clientv3.Config{}, err
	}
	cps, err := k.controlPlaneNodes()
	if err != nil {
		return clientv3.Config{}, err
	}
	var endpoints []string
	for _, n := range cps {
		ip, _, err := n.IP()
		if err != nil {
			return clientv3.Config{}, fmt.Errorf("etcd endpoint of node %s: %w", n, err)
		}
		endpoints = append(endpoints, "https://"+net.JoinHostPort(ip, etcdClientPort))
	}
	// Any control-plane node holds the same CA and client certificate; try
	// them in turn so that a stopped node does not block access.
	var errs []error
	for _, n := range cps {
		tlsCfg, err := etcdTLS(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		return clientv3.Config{
			Endpoints:   endpoints,
			TLS:         tlsCfg,
			DialTimeout: 5 * time.Second,
			Logger:      zap.NewNop(),
		}, nil
	}
	return clientv3.Config{}, fmt.Errorf("etcd client certificates of cluster %s: %w", k.name, errors.Join(errs...))
}

func etcdTLS(n nodes.Node) (*tls.Config, error) {
	files := map[string][]byte{}
	for _, path := range []string{etcdCA, etcdClientCert, etcdClientKey} {
		var buf bytes.Buffer
		if err := n.Command("cat", path).SetStdout(&buf).Run(); err != nil {
			return nil, fmt.Errorf("read %s from node %s: %w", path, n, err)
		}
		files[path] = buf.Bytes()
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(files[etcdCA]) {
		return nil, fmt.Errorf("node %s: no certificate in %s", n, etcdCA)
	}
	cert, err := tls.X509KeyPair(files[etcdClientCert], files[etcdClientKey])
	if err != nil {
		return nil, fmt.Errorf("node %s: etcd client key pair: %w", n, err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
