// Package graphsdk is the part of msgraph-sdk-go hrsync uses, reached
// without the SDK's root package.
//
// msgraphsdk.NewGraphServiceClient returns a GraphServiceClient whose type
// refers to every top-level request builder of Microsoft Graph (drives,
// sites, teams, device management, ...): importing the root package
// compiles about eighty packages hrsync never calls, most of a cold build.
// This package builds the same kiota request adapter the SDK's constructors
// build and hands out the SDK's own request builders for the endpoints hrsync
// uses — users, groups, directory, organization and subscribedSkus — so the
// requests, bodies, parsing and error mapping are the SDK's, byte for byte.
//
// What msgraphsdk.NewGraphRequestAdapter and NewGraphServiceClient set up,
// and New does too:
//
//   - an adapter on msgraph-sdk-go-core's GraphRequestAdapterBase (a kiota
//     NetHttpRequestAdapter) with kiota's default parse-node and
//     serialization-writer registries, and, without a given *http.Client,
//     msgraph-sdk-go-core's default client (Graph's telemetry and /me
//     handlers, then kiota's retry, redirect, compression — gzip request
//     bodies —, parameter-name decoding, user-agent and headers-inspection
//     handlers);
//   - serialization writers registered for JSON, text, form and multipart,
//     parse nodes for JSON, text and form (the registries pick them by
//     content type);
//   - the backing store enabled, after that registration, so models
//     serialise what was set on them;
//   - the base URL (https://graph.microsoft.com/v1.0 unless one is set) as
//     the request builders' {+baseurl}.
//
// TestMatchesSDK (go test -tags rootsdk ./internal/graphsdk) checks this
// against the root package: the same URLs, methods, headers and bodies for
// the requests hrsync makes, and the same factories.
package graphsdk

import (
	"net/http"

	abs "github.com/microsoft/kiota-abstractions-go"
	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoft/kiota-abstractions-go/store"
	formser "github.com/microsoft/kiota-serialization-form-go"
	jsonser "github.com/microsoft/kiota-serialization-json-go"
	multipartser "github.com/microsoft/kiota-serialization-multipart-go"
	textser "github.com/microsoft/kiota-serialization-text-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/directory"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/organization"
	"github.com/microsoftgraph/msgraph-sdk-go/subscribedskus"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// DefaultBaseURL is the base URL the SDK's client uses when the adapter has
// none: Graph v1.0 in the global cloud.
const DefaultBaseURL = "https://graph.microsoft.com/v1.0"

// SDKVersion is the msgraph-sdk-go version go.mod requires, which the
// SDK's default HTTP client names in its SdkVersion telemetry header
// (TestMatchesSDK checks it against the SDK's own).
const SDKVersion = "1.89.0"

// ClientOptions are the options msgraph-sdk-go passes to
// msgraph-sdk-go-core: no service version (v1.0 sends none) and the SDK's
// version.
func ClientOptions() msgraphcore.GraphClientOptions {
	return msgraphcore.GraphClientOptions{GraphServiceLibraryVersion: SDKVersion}
}

// NewAdapter returns the request adapter
// msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient
// returns for (ap, nil, nil, hc): hc nil means msgraph-sdk-go-core's default
// client. Give it to New before use: New registers the serializers and
// enables the backing store, as NewGraphServiceClient does.
func NewAdapter(ap absauth.AuthenticationProvider, hc *http.Client) (*msgraphcore.GraphRequestAdapterBase, error) {
	return msgraphcore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(ap, ClientOptions(), nil, nil, hc)
}

// Client hands out msgraph-sdk-go's request builders for the endpoints
// hrsync uses, like msgraphsdk.GraphServiceClient's methods of the same
// names.
type Client struct {
	adapter abs.RequestAdapter
	params  map[string]string // {"baseurl": ...}; the builders copy it
}

// New does what msgraphsdk.NewGraphServiceClient does to adapter: registers
// the default serializers and parse nodes, sets the base URL if it has none
// (DefaultBaseURL), and enables the backing store. The builders use the
// adapter's base URL as it is now; set it before.
func New(adapter abs.RequestAdapter) *Client {
	RegisterDefaults()
	if adapter.GetBaseUrl() == "" {
		adapter.SetBaseUrl(DefaultBaseURL)
	}
	c := &Client{adapter: adapter, params: map[string]string{"baseurl": adapter.GetBaseUrl()}}
	adapter.EnableBackingStore(store.BackingStoreFactoryInstance)
	return c
}

// RegisterDefaults registers, in kiota's default registries, the
// serialization writers (JSON, text, form, multipart) and parse nodes
// (JSON, text, form) msgraph-sdk-go's client registers. A content type
// already registered keeps its factory.
func RegisterDefaults() {
	abs.RegisterDefaultSerializer(func() absser.SerializationWriterFactory { return jsonser.NewJsonSerializationWriterFactory() })
	abs.RegisterDefaultSerializer(func() absser.SerializationWriterFactory { return textser.NewTextSerializationWriterFactory() })
	abs.RegisterDefaultSerializer(func() absser.SerializationWriterFactory { return formser.NewFormSerializationWriterFactory() })
	abs.RegisterDefaultSerializer(func() absser.SerializationWriterFactory {
		return multipartser.NewMultipartSerializationWriterFactory()
	})
	abs.RegisterDefaultDeserializer(func() absser.ParseNodeFactory { return jsonser.NewJsonParseNodeFactory() })
	abs.RegisterDefaultDeserializer(func() absser.ParseNodeFactory { return textser.NewTextParseNodeFactory() })
	abs.RegisterDefaultDeserializer(func() absser.ParseNodeFactory { return formser.NewFormParseNodeFactory() })
}

// GetAdapter is the client's request adapter.
func (c *Client) GetAdapter() abs.RequestAdapter { return c.adapter }

// Users is /users.
func (c *Client) Users() *users.UsersRequestBuilder {
	return users.NewUsersRequestBuilderInternal(c.params, c.adapter)
}

// Groups is /groups.
func (c *Client) Groups() *groups.GroupsRequestBuilder {
	return groups.NewGroupsRequestBuilderInternal(c.params, c.adapter)
}

// Directory is /directory (deleted items).
func (c *Client) Directory() *directory.DirectoryRequestBuilder {
	return directory.NewDirectoryRequestBuilderInternal(c.params, c.adapter)
}

// Organization is /organization.
func (c *Client) Organization() *organization.OrganizationRequestBuilder {
	return organization.NewOrganizationRequestBuilderInternal(c.params, c.adapter)
}

// SubscribedSkus is /subscribedSkus.
func (c *Client) SubscribedSkus() *subscribedskus.SubscribedSkusRequestBuilder {
	return subscribedskus.NewSubscribedSkusRequestBuilderInternal(c.params, c.adapter)
}
