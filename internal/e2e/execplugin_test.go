package e2e_test

import (
	"encoding/json"
	"fmt"
	"os"
)

// The test binary doubles as a client-go exec credential plugin: with
// execPluginEnv set it prints an ExecCredential carrying the token in
// execTokenEnv and exits.
const (
	execPluginEnv = "KUBEDYN_E2E_EXEC_PLUGIN"
	execTokenEnv  = "KUBEDYN_E2E_EXEC_TOKEN"
	// execExpiryEnv, when set, is the expirationTimestamp the plugin
	// reports; execRunsEnv names a file the plugin appends a line to on
	// each run.
	execExpiryEnv = "KUBEDYN_E2E_EXEC_EXPIRY"
	execRunsEnv   = "KUBEDYN_E2E_EXEC_RUNS"
)

// execPluginMain acts as the plugin when asked to and reports whether it did.
func execPluginMain() bool {
	if os.Getenv(execPluginEnv) == "" {
		return false
	}
	apiVersion := "client.authentication.k8s.io/v1"
	var info struct {
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal([]byte(os.Getenv("KUBERNETES_EXEC_INFO")), &info); err == nil && info.APIVersion != "" {
		apiVersion = info.APIVersion
	}
	status := map[string]any{"token": os.Getenv(execTokenEnv)}
	if exp := os.Getenv(execExpiryEnv); exp != "" {
		status["expirationTimestamp"] = exp
	}
	if runs := os.Getenv(execRunsEnv); runs != "" {
		f, err := os.OpenFile(runs, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_, _ = f.WriteString("run\n")
		_ = f.Close()
	}
	cred := map[string]any{
		"apiVersion": apiVersion,
		"kind":       "ExecCredential",
		"status":     status,
	}
	b, err := json.Marshal(cred)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Stdout.Write(append(b, '\n'))
	return true
}
