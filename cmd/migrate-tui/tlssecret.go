package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"migrate-tui/internal/connect"
	"migrate-tui/internal/status"
	"migrate-tui/internal/tlssecret"
)

// tlsSecretOptions are `migrate-tui tls-secret`'s flags.
type tlsSecretOptions struct {
	g          *globalOptions
	ACMEJSON   string
	Resolver   string
	CertFile   string
	KeyFile    string
	Kubeconfig string
	Domain     string
	Name       string
	Namespace  string
	JSON       bool

	target tlssecret.Target
	kube   connect.Kubeconfig
	now    func() time.Time
}

func newTLSSecretCmd(g *globalOptions) *cobra.Command {
	o := &tlsSecretOptions{g: g, now: time.Now}
	cmd := &cobra.Command{
		Use:   "tls-secret (--acme-json PATH [--resolver NAME] | --cert FILE --key FILE)",
		Short: "Create the wildcard TLS Secret the ingress stage's default TLSStore serves, through the API",
		Long: `Load the wildcard certificate and its key from the external Traefik's acme.json
(the certificate whose main domain or SANs include *.<domain>) or from PEM
files, check it (the key matches, it covers *.<domain>, it has not expired,
the chain parses), then create or update the kubernetes.io/tls Secret
tls_secret_name in the ingress namespace. Terraform only refers to the Secret
by name, so the key never enters terraform.tfvars or the Terraform state.
Only the certificate's subject, SANs, issuer, expiry and SHA-256 fingerprint
are printed.

domain, tls_secret_name and ingress_mode come from terraform.tfvars (flags
override); the kubeconfig is ` + connect.KubeconfigPrecedence + `. Exit 1 means the certificate was refused
or the cluster could not be written.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return usage(err)
			}
			if err := o.Validate(); err != nil {
				return usage(err)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return o.Run(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.ACMEJSON, "acme-json", "", "Traefik's acme.json holding the wildcard certificate")
	f.StringVar(&o.Resolver, "resolver", "", "the certificate resolver in acme.json to take it from (default: any)")
	f.StringVar(&o.CertFile, "cert", "", "PEM certificate chain, leaf first")
	f.StringVar(&o.KeyFile, "key", "", "PEM private key of the certificate")
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", connect.KubeconfigHelp)
	f.StringVar(&o.Domain, "domain", "", "the domain the certificate must cover as *.<domain> (default: domain in terraform.tfvars)")
	f.StringVar(&o.Name, "name", "", "the Secret's name (default: tls_secret_name in terraform.tfvars)")
	f.StringVar(&o.Namespace, "namespace", "", "the Secret's namespace (default: the ingress module's, from ingress_mode)")
	f.BoolVar(&o.JSON, "json", false, "print one JSON document with the result")
	return cmd
}

func (o *tlsSecretOptions) Complete() error {
	repo, err := o.g.RepoDir()
	if err != nil {
		return err
	}
	t, err := tlssecret.TargetFromTfvars(filepath.Join(repo, "terraform.tfvars"))
	if err != nil {
		return err
	}
	if o.Domain != "" {
		t.Domain = o.Domain
	}
	if o.Name != "" {
		t.Name = o.Name
	}
	if o.Namespace != "" {
		t.Namespace = o.Namespace
	}
	o.target = t
	o.kube, err = connect.ResolveKubeconfig(o.Kubeconfig, repo)
	return err
}

func (o *tlsSecretOptions) Validate() error {
	acme, files := o.ACMEJSON != "", o.CertFile != "" || o.KeyFile != ""
	switch {
	case acme && files:
		return errors.New("pass either --acme-json PATH or --cert FILE --key FILE, not both")
	case !acme && !files:
		return errors.New("no certificate given: pass --acme-json PATH (Traefik's acme.json) or --cert FILE --key FILE")
	case files && (o.CertFile == "" || o.KeyFile == ""):
		return errors.New("--cert and --key go together: pass both")
	case o.Resolver != "" && !acme:
		return errors.New("--resolver only applies to --acme-json")
	case o.target.Domain == "":
		return errors.New("no domain: set domain in terraform.tfvars (migrate-tui decide) or pass --domain")
	case o.target.Namespace == "":
		return fmt.Errorf("ingress_mode is %s: the external Traefik terminates TLS and the cluster serves no TLSStore, so no Secret is needed (pass --namespace to create one anyway)", o.target.IngressMode)
	}
	return nil
}

// tlsSecretReport is what `tls-secret --json` prints.
type tlsSecretReport struct {
	Namespace   string          `json:"namespace"`
	Name        string          `json:"name"`
	Domain      string          `json:"domain"`
	Source      string          `json:"source,omitempty"`
	Result      string          `json:"result,omitempty"`
	Certificate *tlssecret.Info `json:"certificate,omitempty"`
	Warnings    []string        `json:"warnings,omitempty"`
	Error       string          `json:"error,omitempty"`
	ExitCode    int             `json:"exit_code"`
}

func (o *tlsSecretOptions) Run(ctx context.Context) error {
	t := o.target
	rep := tlsSecretReport{Namespace: t.Namespace, Name: t.Name, Domain: t.Domain}
	var (
		m   *tlssecret.Material
		err error
	)
	if o.ACMEJSON != "" {
		m, err = tlssecret.FromACME(o.ACMEJSON, t.Domain, o.Resolver)
	} else {
		m, err = tlssecret.FromFiles(o.CertFile, o.KeyFile)
	}
	if err != nil {
		return o.finish(rep, err)
	}
	rep.Source = m.Source
	v, err := m.Validate(t.Domain, o.now())
	if v.Info.SHA256 != "" {
		rep.Certificate = &v.Info
	}
	rep.Warnings = v.Warnings
	if err != nil {
		return o.finish(rep, err)
	}
	cfg, err := o.kube.RESTConfig(0)
	if err != nil {
		return o.finish(rep, err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return o.finish(rep, err)
	}
	res, err := tlssecret.Apply(ctx, kube, t, m)
	rep.Result = string(res)
	return o.finish(rep, err)
}

func (o *tlsSecretOptions) finish(rep tlsSecretReport, err error) error {
	if err != nil {
		rep.Error, rep.ExitCode = err.Error(), exitFailed
	}
	if o.JSON {
		b, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Fprintln(o.g.Out, string(b))
		if err != nil {
			return errors.New("") // the JSON carries the message
		}
		return nil
	}
	if c := rep.Certificate; c != nil {
		fmt.Fprintf(o.g.Out, "Certificate: %s\n  SANs:    %s\n  issuer:  %s\n  expires: %s\n  SHA-256: %s\n",
			c.Subject, strings.Join(c.SANs, ", "), c.Issuer, c.NotAfter.Format(time.RFC3339), c.SHA256)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(o.g.Err, "warning: %s\n", w)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(o.g.Out, "%s Secret %s/%s %s\n", status.Pass.Mark(), rep.Namespace, rep.Name, rep.Result)
	return nil
}
