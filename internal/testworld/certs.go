package testworld

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// keyPair is a certificate and its key, parsed and as PEM files on disk.
type keyPair struct {
	cert              *x509.Certificate
	key               *ecdsa.PrivateKey
	certPEM           []byte
	certFile, keyFile string
}

// newCA makes a self-signed CA and writes name.crt / name.key into dir.
func newCA(dir, name, cn string) (*keyPair, error) {
	return newCert(dir, name, nil, &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	})
}

// newServing makes a serving certificate for loopback signed by ca.
func newServing(dir, name string, ca *keyPair, cn string, dnsNames []string, ips []net.IP) (*keyPair, error) {
	return newCert(dir, name, ca, &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn},
		DNSNames:    dnsNames,
		IPAddresses: ips,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
}

// newClient makes a client certificate signed by ca.
func newClient(dir, name string, ca *keyPair, cn string, orgs []string) (*keyPair, error) {
	return newCert(dir, name, ca, &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn, Organization: orgs},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}

func newCert(dir, name string, ca *keyPair, tmpl *x509.Certificate) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(10 * 365 * 24 * time.Hour)
	parent, signer := tmpl, key
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	kp := &keyPair{
		cert:     cert,
		key:      key,
		certPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		certFile: filepath.Join(dir, name+".crt"),
		keyFile:  filepath.Join(dir, name+".key"),
	}
	if err := os.WriteFile(kp.certFile, kp.certPEM, 0o644); err != nil {
		return nil, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	if err := os.WriteFile(kp.keyFile, keyPEM, 0o600); err != nil {
		return nil, err
	}
	return kp, nil
}

// writeSAKeys writes the service-account signing key pair.
func writeSAKeys(dir string) (pub, priv string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", err
	}
	priv = filepath.Join(dir, "sa.key")
	pub = filepath.Join(dir, "sa.pub")
	if err := os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		return "", "", err
	}
	return pub, priv, nil
}

// worldCerts are the world's certificates and keys.
type worldCerts struct {
	ca               *keyPair // signs the API server's serving cert, trusted by the kubeconfig
	serving          *keyPair // kube-apiserver
	kubelet          *keyPair // KWOK's kubelet endpoint
	frontProxyCA     *keyPair // aggregation layer: metrics-server trusts it
	frontProxyClient *keyPair // the API server's client cert towards aggregated APIs
	saPub, saKey     string
}

func makeCerts(dir string) (*worldCerts, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	c := &worldCerts{}
	var err error
	loopback := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.43.0.1")}
	if c.ca, err = newCA(dir, "ca", "testworld-ca"); err != nil {
		return nil, err
	}
	if c.serving, err = newServing(dir, "apiserver", c.ca, "kube-apiserver",
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}, loopback); err != nil {
		return nil, err
	}
	if c.kubelet, err = newServing(dir, "kubelet", c.ca, "kwok-kubelet", []string{"localhost"}, loopback); err != nil {
		return nil, err
	}
	if c.frontProxyCA, err = newCA(dir, "front-proxy-ca", "testworld-front-proxy-ca"); err != nil {
		return nil, err
	}
	if c.frontProxyClient, err = newClient(dir, "front-proxy-client", c.frontProxyCA, "front-proxy-client", nil); err != nil {
		return nil, err
	}
	if c.saPub, c.saKey, err = writeSAKeys(dir); err != nil {
		return nil, err
	}
	return c, nil
}
