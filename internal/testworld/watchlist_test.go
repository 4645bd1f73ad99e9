package testworld_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// TestWatchListServed: the API server answers a watch-list request (the
// streaming list client-go's informers use when WatchListClient is on, as
// in KWOK v0.8.0's client-go v0.36) with the objects and the bookmark that
// ends the initial events. kube-apiserver 1.34 serves it only on an etcd
// that supports RequestWatchProgress, >= 3.4.31 or >= 3.5.13
// (k8s.io/apiserver v0.34.3 pkg/storage/feature/feature_support_checker.go);
// on Debian's etcd 3.4.23 the cacher answers with an error event ("a watch
// stream was requested by the client but the required storage feature
// RequestWatchProgress is disabled", pkg/storage/cacher/cacher.go), clients
// fall back to list+watch after a delay, and KWOK saw new pods 20-50 s late.
func TestWatchListServed(t *testing.T) {
	t.Parallel()
	ns := world.Namespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cms := world.Client.CoreV1().ConfigMaps(ns)
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "seen"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	yes := true
	wi, err := cms.Watch(ctx, metav1.ListOptions{
		SendInitialEvents:    &yes,
		ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan,
		AllowWatchBookmarks:  true,
	})
	if err != nil {
		t.Fatalf("watch-list request refused: %v", err)
	}
	defer wi.Stop()
	added := false
	for {
		select {
		case <-ctx.Done():
			t.Fatalf("no bookmark ending the initial events (added seen=%v): %v", added, ctx.Err())
		case ev, ok := <-wi.ResultChan():
			if !ok {
				t.Fatalf("the watch-list stream closed before the initial events ended (added seen=%v)", added)
			}
			switch ev.Type {
			case watch.Error:
				t.Fatalf("the API server answered the watch-list request with an error: %v (an etcd without RequestWatchProgress?)", ev.Object)
			case watch.Added:
				if cm, ok := ev.Object.(*corev1.ConfigMap); ok && cm.Name == "seen" {
					added = true
				}
			case watch.Bookmark:
				cm, ok := ev.Object.(*corev1.ConfigMap)
				if ok && cm.Annotations[metav1.InitialEventsAnnotationKey] == "true" {
					if !added {
						t.Fatal("the initial events ended without the ConfigMap created before the watch")
					}
					return
				}
			}
		}
	}
}
