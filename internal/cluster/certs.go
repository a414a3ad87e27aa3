package cluster

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// pki holds the generated key material, PEM-encoded, and where it was written.
type pki struct {
	caPEM  []byte
	caFile string
	// caKeyFile is the CA's key, for the node agent alone: it signs itself
	// a serving certificate for the address of the pod network it makes.
	caKeyFile              string
	serverCert, serverKey  string // files
	clientCertPEM          []byte // admin client certificate (CN=AdminUser, O=system:masters)
	clientKeyPEM           []byte
	saPublicKey, saPrivKey string // files
	// clients maps a component (controllerManagerUser, ...) to the files of
	// its client certificate and key.
	clients map[string][2]string
	// agentCert and agentKey serve the node agent's kubelet API.
	agentCert, agentKey string
}

// Identities of the components' client certificates: the bootstrap RBAC
// policy binds the first two; the node agent and the API server's kubelet
// client are in system:masters.
const (
	controllerManagerUser = "system:kube-controller-manager"
	schedulerUser         = "system:kube-scheduler"
	nodeAgentUser         = "kubedyn-node-agent"
	kubeletClientUser     = "kube-apiserver-kubelet-client"
	// frontProxyUser is the API server's client identity towards
	// aggregated API servers (--proxy-client-cert-file), the one name its
	// request-header authentication accepts.
	frontProxyUser = "front-proxy-client"
)

// writePKI generates into dir a CA (its key too, for the node agent), a
// serving certificate for 127.0.0.1 and localhost (kube-apiserver's, which
// the controller manager and scheduler reuse for their health endpoints),
// the node agent's serving certificate (for 127.0.0.1; it signs itself one
// for its pod network's address with the CA's key),
// client certificates for the admin, the controller manager, the scheduler,
// the node agent and the API server's kubelet client, and a service-account
// RSA key pair.
func writePKI(dir string) (*pki, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "kubedyn-test-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	p := &pki{caPEM: pemBlock("CERTIFICATE", caDER)}

	issue := func(tmpl *x509.Certificate) (certPEM, keyPEM []byte, err error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
		if err != nil {
			return nil, nil, err
		}
		kder, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, nil, err
		}
		return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", kder), nil
	}
	srvCert, srvKey, err := issue(&x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		DNSNames:     []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback, net.IPv4(10, 0, 0, 1)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	p.clientCertPEM, p.clientKeyPEM, err = issue(&x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: AdminUser, Organization: []string{"system:masters"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, fmt.Errorf("client certificate: %w", err)
	}
	p.clients = map[string][2]string{}
	files := map[string][]byte{}
	for _, user := range []string{controllerManagerUser, schedulerUser, nodeAgentUser, kubeletClientUser, frontProxyUser} {
		var org []string
		if user == nodeAgentUser || user == kubeletClientUser {
			org = []string{"system:masters"}
		}
		cert, key, err := issue(&x509.Certificate{
			SerialNumber: serial(),
			Subject:      pkix.Name{CommonName: user, Organization: org},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(7 * 24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		})
		if err != nil {
			return nil, fmt.Errorf("client certificate for %s: %w", user, err)
		}
		base := filepath.Join(dir, strings.ReplaceAll(strings.TrimPrefix(user, "system:"), ":", "-"))
		p.clients[user] = [2]string{base + ".crt", base + ".key"}
		files[base+".crt"], files[base+".key"] = cert, key
	}
	agentCert, agentKey, err := issue(&x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "kubedyn-node-agent"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return nil, fmt.Errorf("node agent serving certificate: %w", err)
	}
	p.agentCert, p.agentKey = filepath.Join(dir, "node-agent-serving.crt"), filepath.Join(dir, "node-agent-serving.key")
	files[p.agentCert], files[p.agentKey] = agentCert, agentKey

	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	saPub, err := x509.MarshalPKIXPublicKey(saKey.Public())
	if err != nil {
		return nil, err
	}
	saPriv, err := x509.MarshalPKCS8PrivateKey(crypto.Signer(saKey))
	if err != nil {
		return nil, err
	}

	caKeyDER, err := x509.MarshalPKCS8PrivateKey(caKey)
	if err != nil {
		return nil, err
	}
	p.caFile = filepath.Join(dir, "ca.crt")
	p.caKeyFile = filepath.Join(dir, "ca.key")
	files[p.caKeyFile] = pemBlock("PRIVATE KEY", caKeyDER)
	p.serverCert = filepath.Join(dir, "apiserver.crt")
	p.serverKey = filepath.Join(dir, "apiserver.key")
	p.saPublicKey = filepath.Join(dir, "sa.pub")
	p.saPrivKey = filepath.Join(dir, "sa.key")
	files[p.caFile] = p.caPEM
	files[p.serverCert], files[p.serverKey] = srvCert, srvKey
	files[p.saPublicKey], files[p.saPrivKey] = pemBlock("PUBLIC KEY", saPub), pemBlock("PRIVATE KEY", saPriv)
	for f, b := range files {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return n
}
