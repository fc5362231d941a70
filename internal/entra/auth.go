package entra

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
	kauth "github.com/microsoft/kiota-authentication-azure-go"

	"github.com/hrsync/hrsync/internal/config"
)

// Auth says how to authenticate to Graph.
type Auth struct {
	// Method is one of the config.Auth* constants.
	Method   string
	TenantID string
	ClientID string
	// Token is the bearer token for config.AuthAccessToken; when empty it
	// is read from HRSYNC_ACCESS_TOKEN.
	Token string
	// Getenv reads AZURE_* and HRSYNC_ACCESS_TOKEN; nil means os.Getenv.
	Getenv func(string) string

	// transport replaces the credential's HTTP transport (tests).
	transport policy.Transporter
}

// authProvider builds the kiota authentication provider for graphURL.
// Secrets come from the environment only, never from the config file, and
// never appear in errors.
func authProvider(a Auth, graphURL string) (absauth.AuthenticationProvider, error) {
	getenv := a.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	u, err := url.Parse(graphURL)
	if err != nil {
		return nil, fmt.Errorf("graph url %q: %w", graphURL, err)
	}
	if a.Method == config.AuthAccessToken {
		tok := a.Token
		if tok == "" {
			tok = strings.TrimSpace(getenv("HRSYNC_ACCESS_TOKEN"))
		}
		if tok == "" {
			return nil, errors.New("auth access_token: HRSYNC_ACCESS_TOKEN is not set (e.g. export HRSYNC_ACCESS_TOKEN=$(az account get-access-token --resource-type ms-graph --query accessToken -o tsv))")
		}
		tok = strings.TrimPrefix(tok, "Bearer ")
		return absauth.NewBaseBearerTokenAuthenticationProvider(&staticToken{token: tok, host: u.Host}), nil
	}
	cred, err := credential(a, getenv, u.Hostname())
	if err != nil {
		return nil, err
	}
	cred = &safeCredential{cred: cred, method: a.Method, secrets: credentialSecrets(getenv)}
	scopes := []string{strings.TrimRight(graphURL, "/") + "/.default"}
	p, err := kauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, scopes, []string{u.Hostname()}) // kiota compares host names without the port
	if err != nil {
		return nil, fmt.Errorf("auth %s: %w", a.Method, err)
	}
	return p, nil
}

func credential(a Auth, getenv func(string) string, graphHost string) (azcore.TokenCredential, error) {
	tenant := cmp.Or(a.TenantID, getenv("AZURE_TENANT_ID"))
	client := cmp.Or(a.ClientID, getenv("AZURE_CLIENT_ID"))
	opts := azcore.ClientOptions{Cloud: cloudFor(graphHost), Transport: a.transport}
	if getenv("AZURE_AUTHORITY_HOST") != "" {
		opts.Cloud = cloud.Configuration{} // azidentity then honours AZURE_AUTHORITY_HOST
	}
	switch a.Method {
	case config.AuthClientSecret:
		secret := getenv("AZURE_CLIENT_SECRET")
		if secret == "" {
			return nil, errors.New("auth client_secret: AZURE_CLIENT_SECRET is not set (secrets are read from the environment, never from the config file)")
		}
		c, err := azidentity.NewClientSecretCredential(tenant, client, secret, &azidentity.ClientSecretCredentialOptions{ClientOptions: opts})
		if err != nil {
			return nil, fmt.Errorf("auth client_secret: %w", err)
		}
		return c, nil
	case config.AuthCertificate:
		path := getenv("AZURE_CLIENT_CERTIFICATE_PATH")
		if path == "" {
			return nil, errors.New("auth certificate: AZURE_CLIENT_CERTIFICATE_PATH is not set (PEM or PKCS#12 file with the certificate and private key)")
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("auth certificate: %w", err)
		}
		var pw []byte
		if p := getenv("AZURE_CLIENT_CERTIFICATE_PASSWORD"); p != "" {
			pw = []byte(p)
		}
		certs, key, err := azidentity.ParseCertificates(data, pw)
		if err != nil {
			return nil, fmt.Errorf("auth certificate: parse %s: %w", path, err)
		}
		c, err := azidentity.NewClientCertificateCredential(tenant, client, certs, key, &azidentity.ClientCertificateCredentialOptions{ClientOptions: opts})
		if err != nil {
			return nil, fmt.Errorf("auth certificate: %w", err)
		}
		return c, nil
	case config.AuthWorkloadIdentity:
		c, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: opts, TenantID: tenant, ClientID: client, TokenFilePath: getenv("AZURE_FEDERATED_TOKEN_FILE"),
		})
		if err != nil {
			return nil, fmt.Errorf("auth workload_identity (needs AZURE_FEDERATED_TOKEN_FILE): %w", err)
		}
		return c, nil
	case config.AuthManagedIdentity:
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}
		if client != "" {
			o.ID = azidentity.ClientID(client)
		}
		c, err := azidentity.NewManagedIdentityCredential(o)
		if err != nil {
			return nil, fmt.Errorf("auth managed_identity: %w", err)
		}
		return c, nil
	case config.AuthAzureCLI:
		c, err := azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: a.TenantID})
		if err != nil {
			return nil, fmt.Errorf("auth azure_cli: %w", err)
		}
		return c, nil
	}
	return nil, fmt.Errorf("unknown auth method %q", a.Method)
}

// cloudFor picks the sign-in authority that issues tokens for a national
// cloud's Graph endpoint (AZURE_AUTHORITY_HOST overrides it, see credential).
func cloudFor(graphHost string) cloud.Configuration {
	switch {
	case strings.HasSuffix(graphHost, "graph.microsoft.us"):
		return cloud.AzureGovernment
	case strings.HasSuffix(graphHost, "chinacloudapi.cn"):
		return cloud.AzureChina
	}
	return cloud.AzurePublic
}

// staticToken hands out a bearer token minted elsewhere, only to the Graph
// host configured and only over https or loopback.
type staticToken struct {
	token string
	host  string
}

func (s *staticToken) GetAuthorizationToken(_ context.Context, u *url.URL, _ map[string]interface{}) (string, error) {
	if u == nil || !strings.EqualFold(u.Host, s.host) {
		return "", nil // never send the token to another host
	}
	if !strings.EqualFold(u.Scheme, "https") && !config.IsLoopback(u.Hostname()) {
		return "", errors.New("refusing to send a bearer token over plain http to a non-loopback host")
	}
	return s.token, nil
}

func (s *staticToken) GetAllowedHostsValidator() *absauth.AllowedHostsValidator {
	v, _ := absauth.NewAllowedHostsValidatorErrorCheck([]string{s.host})
	return v
}
