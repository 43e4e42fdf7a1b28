// Command load-images loads images into the nodes of a kind cluster the way
// drill does (cluster.Kind.LoadImages) and says how long it took: the
// measurement behind README's "Images". With no image named, the images
// drills run (fixtures, Velero, monitoring).
//
//	go run ./hack/load-images [-name drill] [IMAGE...]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"sigs.k8s.io/kind/pkg/cmd"

	"github.com/drill-sre/drill/fixtures"
	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/faults"
	"github.com/drill-sre/drill/internal/framework"
)

func main() {
	name := flag.String("name", cluster.DefaultName, "the kind cluster")
	flag.Parse()
	images := flag.Args()
	if len(images) == 0 {
		images = append(append(append(images, framework.FixtureImages...), faults.VeleroImages...), fixtures.MonitoringImages...)
	}
	k, err := cluster.NewKind(*name, cluster.KindWithLogger(cmd.NewLogger()))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	start := time.Now()
	res, err := k.LoadImages(context.Background(), images...)
	took := time.Since(start)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	loads := 0
	for _, nodes := range res.Loaded {
		loads += len(nodes)
	}
	fmt.Printf("%d images in %s: %d loads onto nodes, %d already on every node, %d missing locally\n",
		len(images), took.Round(100*time.Millisecond), loads, len(res.Present), len(res.Missing))
}
