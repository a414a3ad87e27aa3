package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// buildTLS turns t into a tls.Config. Data wins over File for each item. With
// a CredentialProvider the client certificate is asked of the provider at
// each handshake, falling back to the static one.
func buildTLS(t *TLSConfig, creds CredentialProvider) (*tls.Config, error) {
	hasCA := len(t.CAData) > 0 || t.CAFile != ""
	if t.Insecure && hasCA {
		return nil, errors.New("transport: TLS.Insecure together with a CA: either verify the server with the CA or skip verification, not both")
	}
	conf := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.Insecure, //nolint:gosec // only when the user asks
	}
	if hasCA {
		ca, err := dataOrFile(t.CAData, t.CAFile, "CA")
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("transport: TLS CA%s holds no PEM certificate", fileSuffix(t.CAData, t.CAFile))
		}
		conf.RootCAs = pool
	}
	hasCert := len(t.CertData) > 0 || t.CertFile != ""
	hasKey := len(t.KeyData) > 0 || t.KeyFile != ""
	var static *tls.Certificate
	switch {
	case hasCert != hasKey:
		return nil, errors.New("transport: TLS client certificate and key must be given together")
	case hasCert:
		certPEM, err := dataOrFile(t.CertData, t.CertFile, "client certificate")
		if err != nil {
			return nil, err
		}
		keyPEM, err := dataOrFile(t.KeyData, t.KeyFile, "client key")
		if err != nil {
			return nil, err
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("transport: TLS client certificate%s: %w", fileSuffix(t.CertData, t.CertFile), err)
		}
		static = &cert
		conf.Certificates = []tls.Certificate{cert}
	}
	if creds != nil {
		conf.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			c, err := creds.Credentials(cri.Context(), false)
			if err != nil {
				return nil, fmt.Errorf("transport: credential provider: %w", err)
			}
			if c.ClientCertificate != nil {
				return c.ClientCertificate, nil
			}
			if static != nil {
				return static, nil
			}
			return &tls.Certificate{}, nil
		}
	}
	return conf, nil
}

func dataOrFile(data []byte, file, what string) ([]byte, error) {
	if len(data) > 0 {
		return data, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("transport: TLS %s: %w", what, err)
	}
	return b, nil
}

func fileSuffix(data []byte, file string) string {
	if len(data) > 0 {
		return " (inline data)"
	}
	return " file " + file
}
