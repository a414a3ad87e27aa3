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
	cred := map[string]any{
		"apiVersion": apiVersion,
		"kind":       "ExecCredential",
		"status":     map[string]any{"token": os.Getenv(execTokenEnv)},
	}
	b, err := json.Marshal(cred)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Stdout.Write(append(b, '\n'))
	return true
}
