//go:build rootsdk

package graphsdk

// go test -tags rootsdk ./internal/graphsdk compares this package with
// msgraph-sdk-go's own constructors. It compiles the SDK's root package and
// the ~80 packages behind it (minutes on a cold cache), which is why it is
// behind a build tag; CI runs it (.ci/run).

import (
	"fmt"
	"reflect"
	"sort"
	"testing"

	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
)

// registries describes kiota's default registries: content type and
// factory type (with the wrapped factory's type behind a backing-store
// proxy).
func registries() []string {
	var out []string
	ser := absser.DefaultSerializationWriterFactoryInstance
	ser.Lock()
	for ct, f := range ser.ContentTypeAssociatedFactories {
		out = append(out, fmt.Sprintf("serializer %s %T", ct, f))
	}
	ser.Unlock()
	pn := absser.DefaultParseNodeFactoryInstance
	pn.Lock()
	for ct, f := range pn.ContentTypeAssociatedFactories {
		out = append(out, fmt.Sprintf("parse node %s %T", ct, f))
	}
	pn.Unlock()
	sort.Strings(out)
	return out
}

// TestMatchesSDK builds every request hrsync makes through this package
// and through msgraphsdk.NewGraphRequestAdapter + NewGraphServiceClient,
// and compares what the adapters would send; and checks that the SDK's
// constructor registers nothing New has not.
func TestMatchesSDK(t *testing.T) {
	const base = "https://graph.example/v1.0"
	ours := newTestClient(t, base)
	before := registries()

	sdkAdapter, err := msgraphsdk.NewGraphRequestAdapter(testAuth())
	if err != nil {
		t.Fatal(err)
	}
	sdkAdapter.SetBaseUrl(base)
	sdk := msgraphsdk.NewGraphServiceClient(sdkAdapter)
	if after := registries(); !reflect.DeepEqual(before, after) {
		t.Errorf("the SDK's client changed kiota's registries:\nbefore %q\nafter  %q", before, after)
	}
	t.Logf("registries: %q", before)
	if got, want := ClientOptions(), msgraphsdk.GetDefaultClientOptions(); got != want {
		t.Errorf("ClientOptions() = %+v, the SDK's %+v", got, want)
	}
	for _, r := range requests() {
		got, want := toWire(t, r, ours, ours.GetAdapter()), toWire(t, r, sdk, sdk.GetAdapter())
		if got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", r.name, got, want)
		}
	}
}
