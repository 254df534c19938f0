package app

// Tests of the deployment files (docker-compose.yml, deploy/ragqueue.env.example,
// deploy/Dockerfile, deploy/redis/redis.conf, deploy/k8s) against what the
// binaries accept. There is no Docker engine where these run: they parse the
// files, and run `docker compose config` and `kubectl kustomize` only where
// those tools exist. Nothing here starts a container.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/ragqueue/ragqueue/jobs"
)

// repoRoot is the repository root seen from this package's directory.
const repoRoot = "../../.."

// todoMarker marks a line naming a setting ragqueue does not accept yet;
// the known-settings check skips such lines.
const todoMarker = "TODO(settings)"

// fakeSecret fills the secrets the env example leaves empty (≥ 24 characters,
// as RAGQ_ADMIN_KEY requires).
const fakeSecret = "deploy-test-secret-0123456789abcdef"

func readRepoFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(rel)))
	require.NoError(t, err)
	return string(b)
}

func knownSettings() map[string]bool {
	known := make(map[string]bool)
	for _, s := range Settings() {
		known[s.Name] = true
	}
	return known
}

// deployFiles lists every file that configures a deployment, relative to
// the repository root.
func deployFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"docker-compose.yml", "deploy/ragqueue.env.example", "deploy/Dockerfile", "deploy/redis/redis.conf"}
	k8s, err := filepath.Glob(filepath.Join(repoRoot, "deploy", "k8s", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, k8s)
	for _, f := range k8s {
		files = append(files, "deploy/k8s/"+filepath.Base(f))
	}
	return files
}

var settingName = regexp.MustCompile(`\bRAGQ_[A-Z0-9_]*[A-Z0-9]`)

// mentionedSettings returns the RAGQ_* names in text with their line
// numbers, skipping lines that carry todoMarker.
func mentionedSettings(text string) map[string]int {
	out := make(map[string]int)
	for i, line := range strings.Split(text, "\n") {
		if strings.Contains(line, todoMarker) {
			continue
		}
		for _, name := range settingName.FindAllString(line, -1) {
			if _, ok := out[name]; !ok {
				out[name] = i + 1
			}
		}
	}
	return out
}

func TestDeployFilesNameOnlyKnownSettings(t *testing.T) {
	t.Parallel()
	known := knownSettings()
	for _, file := range deployFiles(t) {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			for name, line := range mentionedSettings(readRepoFile(t, file)) {
				require.True(t, known[name], "%s:%d: %s is not a setting ragqueue accepts (Settings()); mark a future one with %s", file, line, name, todoMarker)
			}
		})
	}
}

func TestMentionedSettingsSkipsTODOLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want map[string]int
	}{
		{"RAGQ_ADDR=:8080", map[string]int{"RAGQ_ADDR": 1}},
		{"# RAGQ_CHUNK_SIZE=1000\nRAGQ_CHUNK_SIZE=2", map[string]int{"RAGQ_CHUNK_SIZE": 1}},
		{"x\n  RAGQ_TYPO: ${RAGQ_OTHER}", map[string]int{"RAGQ_TYPO": 2, "RAGQ_OTHER": 2}},
		{"# " + todoMarker + " RAGQ_FUTURE=1", map[string]int{}},
		{"RAGQ_=1 XRAGQ_ADDR=2", map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, mentionedSettings(tt.text))
		})
	}
}

// parseEnvFile returns the active KEY=VALUE lines of an env file.
func parseEnvFile(t *testing.T, text string) map[string]string {
	t.Helper()
	env := make(map[string]string)
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "env file line %d is not KEY=VALUE: %q", n, line)
		require.NotContains(t, env, k, "env file line %d sets %s twice", n, k)
		env[k] = v
	}
	require.NoError(t, sc.Err())
	return env
}

func getenvFrom(env map[string]string) func(string) string {
	return func(name string) string { return env[name] }
}

func TestEnvExample(t *testing.T) {
	t.Parallel()
	text := readRepoFile(t, "deploy/ragqueue.env.example")
	for _, s := range Settings() {
		line := regexp.MustCompile(`(?m)^(# )?` + s.Name + `=`)
		require.Regexp(t, line, text, "deploy/ragqueue.env.example has no line %s=… (commented out or set)", s.Name)
	}
	env := parseEnvFile(t, text)
	_, err := LoadConfig(getenvFrom(env))
	require.NoError(t, err, "LoadConfig refuses the example's values")
}

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image string `yaml:"image"`
	Build *struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Command       []string          `yaml:"command"`
	ContainerName string            `yaml:"container_name"`
	EnvFile       []string          `yaml:"env_file"`
	Environment   map[string]string `yaml:"environment"`
	Ports         []string          `yaml:"ports"`
	Volumes       []string          `yaml:"volumes"`
	Profiles      []string          `yaml:"profiles"`
	DependsOn     map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	ReadOnly bool     `yaml:"read_only"`
	Tmpfs    []string `yaml:"tmpfs"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	var c composeFile
	require.NoError(t, yaml.Unmarshal([]byte(readRepoFile(t, "docker-compose.yml")), &c))
	return c
}

var interpolation = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}`)

// interpolate expands Compose's ${NAME}, ${NAME:-default} and
// ${NAME:?error} (and the forms without the colon) and $$.
func interpolate(s string, vars map[string]string) (string, error) {
	var errs []error
	out := interpolation.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		sub := interpolation.FindStringSubmatch(m)
		name, op, arg := sub[1], sub[2], sub[3]
		v, set := vars[name]
		unset := !set || (strings.HasPrefix(op, ":") && v == "")
		switch {
		case strings.HasSuffix(op, "-") && unset:
			return arg
		case strings.HasSuffix(op, "?") && unset:
			errs = append(errs, fmt.Errorf("%s: %s", name, arg))
		}
		return v
	})
	return out, errors.Join(errs...)
}

func TestInterpolate(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"A": "a", "EMPTY": ""}
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "x${A}y", want: "xay"},
		{in: "${EMPTY:-d}|${EMPTY-d}|${UNSET-d}", want: "d||d"},
		{in: "${A:?need A}", want: "a"},
		{in: "${EMPTY:?need EMPTY}", wantErr: "EMPTY: need EMPTY"},
		{in: "${UNSET?need UNSET}", wantErr: "UNSET: need UNSET"},
		{in: "$$status", want: "$status"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := interpolate(tt.in, vars)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// composeEnv is the environment Compose gives service svc: its env_file
// (.env, made from the example) overridden by its environment, interpolated
// with vars.
func composeEnv(svc composeService, example, vars map[string]string) (map[string]string, error) {
	env := make(map[string]string)
	if slices.Contains(svc.EnvFile, ".env") {
		maps.Copy(env, example)
	}
	var errs []error
	for k, v := range svc.Environment {
		x, err := interpolate(v, vars)
		errs = append(errs, err)
		env[k] = x
	}
	return env, errors.Join(errs...)
}

// addrPort is the port of a host:port listen address such as RAGQ_ADDR.
func addrPort(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err, "listen address %q", addr)
	return port
}

func TestComposeEnvironmentLoads(t *testing.T) {
	t.Parallel()
	compose := loadCompose(t)
	exampleText := readRepoFile(t, "deploy/ragqueue.env.example")
	example := parseEnvFile(t, exampleText)
	composeText := readRepoFile(t, "docker-compose.yml")

	// What Compose interpolates from .env: the example, secrets filled in.
	vars := maps.Clone(example)
	for _, m := range interpolation.FindAllStringSubmatch(composeText, -1) {
		if m[1] == "" {
			continue
		}
		if strings.HasSuffix(m[2], "?") {
			require.Contains(t, example, m[1], "docker-compose.yml requires %s; deploy/ragqueue.env.example must have a line for it", m[1])
			if vars[m[1]] == "" {
				vars[m[1]] = fakeSecret
			}
		}
	}

	tests := []struct {
		service  string
		embedded bool
	}{
		{service: "api"},
		{service: "worker"},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			t.Parallel()
			svc, ok := compose.Services[tt.service]
			require.True(t, ok)
			require.Contains(t, svc.EnvFile, ".env", "the one env file")

			_, err := composeEnv(svc, example, example)
			require.Error(t, err, "with the example's empty secrets, compose must refuse to start %s", tt.service)

			env, err := composeEnv(svc, example, vars)
			require.NoError(t, err)
			cfg, err := LoadConfig(getenvFrom(env))
			require.NoError(t, err, "LoadConfig refuses %s's environment", tt.service)
			require.False(t, cfg.Embedded(), "%s must use the redis service", tt.service)
			require.NotEmpty(t, cfg.DatabaseURL, "%s must use the postgres service", tt.service)
			require.Equal(t, "/data", cfg.DataDir)
			require.Contains(t, svc.Volumes, "data:"+cfg.DataDir, "%s must mount the shared data volume at RAGQ_DATA_DIR", tt.service)

			if tt.service == "api" {
				port := addrPort(t, cfg.Addr)
				require.Len(t, svc.Ports, 1)
				require.True(t, strings.HasSuffix(svc.Ports[0], ":"+port), "api publishes %q but listens on RAGQ_ADDR %q", svc.Ports[0], cfg.Addr)
			}
		})
	}
}

func TestComposeServices(t *testing.T) {
	t.Parallel()
	compose := loadCompose(t)
	for _, name := range []string{"api", "worker", "redis", "postgres", "qdrant", "ollama"} {
		require.Contains(t, compose.Services, name)
	}
	for name, svc := range compose.Services {
		for _, v := range svc.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if !strings.HasPrefix(src, ".") && !strings.HasPrefix(src, "/") {
				require.Contains(t, compose.Volumes, src, "service %s mounts undeclared volume %s", name, src)
			}
		}
	}

	api, worker := compose.Services["api"], compose.Services["worker"]
	require.Equal(t, []string{"api"}, api.Command)
	require.Equal(t, []string{"worker"}, worker.Command)
	for _, svc := range []composeService{api, worker} {
		require.NotNil(t, svc.Build)
		require.Equal(t, "deploy/Dockerfile", svc.Build.Dockerfile)
		require.True(t, svc.ReadOnly)
		require.Contains(t, svc.Tmpfs, "/tmp", "PDFs are spooled to the temp dir")
		for _, dep := range []string{"redis", "postgres"} {
			require.Equal(t, "service_healthy", svc.DependsOn[dep].Condition, "start after %s is healthy", dep)
		}
	}
	require.Empty(t, worker.ContainerName, "--scale worker=N needs no container_name")
	require.Empty(t, worker.Ports, "--scale worker=N needs no published ports")
	require.NotNil(t, api.Healthcheck)
	require.Equal(t, []string{"CMD", "healthcheck", "/healthz"}, api.Healthcheck.Test)

	redis := compose.Services["redis"]
	require.Contains(t, redis.Volumes, "./deploy/redis/redis.conf:/usr/local/etc/redis/redis.conf:ro")
	require.Equal(t, []string{"redis-server", "/usr/local/etc/redis/redis.conf"}, redis.Command)
	require.NotNil(t, redis.Healthcheck)

	require.True(t, strings.HasPrefix(compose.Services["postgres"].Image, "postgres:15"))
	require.NotNil(t, compose.Services["postgres"].Healthcheck)

	qdrant := compose.Services["qdrant"]
	require.NotEmpty(t, qdrant.Environment["QDRANT__SERVICE__API_KEY"], "Qdrant must require an API key")
	require.Equal(t, "6334", qdrant.Environment["QDRANT__SERVICE__GRPC_PORT"])
	require.Empty(t, qdrant.Ports, "Qdrant stays on the compose network")

	require.Equal(t, []string{"ollama"}, compose.Services["ollama"].Profiles)
}

func TestDockerfileBuildsTheCommands(t *testing.T) {
	t.Parallel()
	df := readRepoFile(t, "deploy/Dockerfile")
	require.Contains(t, df, "CGO_ENABLED=0")
	require.Contains(t, df, "FROM gcr.io/distroless/static-debian12:nonroot")
	require.Regexp(t, `(?m)^USER 65532`, df)
	require.Contains(t, df, `CMD ["api"]`)
	// Every command compose runs must be built into the image, on PATH.
	for _, pkg := range []string{"./cmd/api", "./cmd/worker", "./deploy/healthcheck"} {
		require.Contains(t, df, pkg)
		main, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(pkg), "main.go"))
		require.NoError(t, err)
		require.Contains(t, string(main), "package main")
	}
}

// redisDirectives parses redis.conf text into directive → arguments.
func redisDirectives(text string) map[string]string {
	out := make(map[string]string)
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, " ")
		out[strings.ToLower(k)] = strings.TrimSpace(v)
	}
	return out
}

func TestRedisPersistence(t *testing.T) {
	t.Parallel()
	compose := redisDirectives(readRepoFile(t, "deploy/redis/redis.conf"))
	var k8s map[string]string
	for _, o := range k8sObjects(t) {
		if o.Kind == "ConfigMap" && o.Metadata.Name == "redis-config" {
			k8s = redisDirectives(decodeAs[struct {
				Data map[string]string `yaml:"data"`
			}](t, o).Data["redis.conf"])
		}
	}
	require.NotNil(t, k8s, "deploy/k8s has no redis-config ConfigMap")
	require.Equal(t, compose, k8s, "deploy/k8s/redis.yaml's redis.conf differs from deploy/redis/redis.conf")

	// Eviction silently deletes jobs; without AOF a restart loses them.
	want := map[string]string{"appendonly": "yes", "appendfsync": "everysec", "maxmemory-policy": "noeviction", "dir": "/data"}
	for k, v := range want {
		require.Equal(t, v, compose[k], "redis.conf %s", k)
	}
}

// k8sObject is one YAML document of deploy/k8s, its body kept for decodeAs.
type k8sObject struct {
	File     string
	Kind     string
	Metadata struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	}
	node *yaml.Node
}

func k8sObjects(t *testing.T) []k8sObject {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "deploy", "k8s", "*.yaml"))
	require.NoError(t, err)
	var objs []k8sObject
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var node yaml.Node
			err := dec.Decode(&node)
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, f)
			if len(node.Content) == 0 {
				continue
			}
			var hdr struct {
				Kind     string `yaml:"kind"`
				Metadata struct {
					Name   string            `yaml:"name"`
					Labels map[string]string `yaml:"labels"`
				} `yaml:"metadata"`
			}
			require.NoError(t, node.Decode(&hdr), f)
			require.NotEmpty(t, hdr.Kind, "%s: a document without kind", f)
			o := k8sObject{File: filepath.Base(f), Kind: hdr.Kind, node: &node}
			o.Metadata.Name, o.Metadata.Labels = hdr.Metadata.Name, hdr.Metadata.Labels
			objs = append(objs, o)
		}
	}
	return objs
}

func decodeAs[T any](t *testing.T, o k8sObject) T {
	t.Helper()
	var v T
	require.NoError(t, o.node.Decode(&v), "%s %s/%s", o.File, o.Kind, o.Metadata.Name)
	return v
}

func findObject(t *testing.T, objs []k8sObject, kind, name string) k8sObject {
	t.Helper()
	for _, o := range objs {
		if o.Kind == kind && o.Metadata.Name == name {
			return o
		}
	}
	require.Failf(t, "missing manifest", "deploy/k8s has no %s %s", kind, name)
	return k8sObject{}
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

type container struct {
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Args    []string `yaml:"args"`
	EnvFrom []struct {
		ConfigMapRef *struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	Env []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	StartupProbe   *probe `yaml:"startupProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type deployment struct {
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
				SecurityContext               struct {
					RunAsNonRoot *bool `yaml:"runAsNonRoot"`
					RunAsUser    int   `yaml:"runAsUser"`
				} `yaml:"securityContext"`
				Containers []container `yaml:"containers"`
				Volumes    []struct {
					Name                  string `yaml:"name"`
					PersistentVolumeClaim *struct {
						ClaimName string `yaml:"claimName"`
					} `yaml:"persistentVolumeClaim"`
					EmptyDir *struct{} `yaml:"emptyDir"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type stringMaps struct {
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
}

// podEnv is the environment a container gets from the ConfigMaps and
// Secrets in objs.
func podEnv(t *testing.T, objs []k8sObject, c container) map[string]string {
	t.Helper()
	env := make(map[string]string)
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			maps.Copy(env, decodeAs[stringMaps](t, findObject(t, objs, "ConfigMap", ef.ConfigMapRef.Name)).Data)
		case ef.SecretRef != nil:
			maps.Copy(env, decodeAs[stringMaps](t, findObject(t, objs, "Secret", ef.SecretRef.Name)).StringData)
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			secret := decodeAs[stringMaps](t, findObject(t, objs, "Secret", ref.Name)).StringData
			require.Contains(t, secret, ref.Key, "container %s reads key %s the Secret %s lacks", c.Name, ref.Key, ref.Name)
			env[e.Name] = secret[ref.Key]
		default:
			env[e.Name] = e.Value
		}
	}
	return env
}

// probePort resolves a probe's port (a number or a container port's name).
func probePort(t *testing.T, c container, port any) int {
	t.Helper()
	switch p := port.(type) {
	case int:
		return p
	case string:
		for _, cp := range c.Ports {
			if cp.Name == p {
				return cp.ContainerPort
			}
		}
	}
	require.Failf(t, "bad probe port", "container %s: probe port %v names no container port", c.Name, port)
	return 0
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func TestK8sWorkloads(t *testing.T) {
	t.Parallel()
	objs := k8sObjects(t)
	tests := []struct {
		name, role string
		http       bool
	}{
		{name: "ragqueue-api", role: "api", http: true},
		{name: "ragqueue-worker", role: "worker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := decodeAs[deployment](t, findObject(t, objs, "Deployment", tt.name))
			pod := d.Spec.Template.Spec
			labels := d.Spec.Template.Metadata.Labels
			require.True(t, selects(d.Spec.Selector.MatchLabels, labels), "selector does not match the pod's labels")
			require.Len(t, pod.Containers, 1)
			c := pod.Containers[0]
			require.Equal(t, []string{tt.role}, c.Args, "the command chooses the role")

			env := podEnv(t, objs, c)
			for name := range env {
				require.True(t, knownSettings()[name], "%s gets %s, which ragqueue does not accept", tt.name, name)
			}
			cfg, err := LoadConfig(getenvFrom(env))
			require.NoError(t, err, "LoadConfig refuses %s's environment", tt.name)
			require.False(t, cfg.Embedded())
			require.NotEmpty(t, cfg.DatabaseURL)
			if tt.role == "worker" {
				require.Empty(t, cfg.AdminKey, "workers should not get the admin key")
			}
			require.Greater(t, pod.TerminationGracePeriodSeconds, int(cfg.ShutdownTimeout/time.Second),
				"the grace period must outlast RAGQ_SHUTDOWN_TIMEOUT")

			// Non-root, read-only root file system, RAGQ_DATA_DIR on the shared claim, /tmp writable.
			require.NotNil(t, pod.SecurityContext.RunAsNonRoot)
			require.True(t, *pod.SecurityContext.RunAsNonRoot)
			require.NotZero(t, pod.SecurityContext.RunAsUser)
			sc := c.SecurityContext
			require.True(t, sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem)
			require.True(t, sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation)
			require.Equal(t, []string{"ALL"}, sc.Capabilities.Drop)
			mounts := make(map[string]string)
			for _, m := range c.VolumeMounts {
				mounts[m.MountPath] = m.Name
			}
			require.Contains(t, mounts, cfg.DataDir, "RAGQ_DATA_DIR must be a mounted volume")
			require.Contains(t, mounts, "/tmp", "PDFs and uploads spill to the temp dir")
			for _, v := range pod.Volumes {
				switch mounts[cfg.DataDir] {
				case v.Name:
					require.NotNil(t, v.PersistentVolumeClaim, "api and workers share RAGQ_DATA_DIR: a claim, not %s", v.Name)
					pvc := decodeAs[struct {
						Spec struct {
							AccessModes []string `yaml:"accessModes"`
						} `yaml:"spec"`
					}](t, findObject(t, objs, "PersistentVolumeClaim", v.PersistentVolumeClaim.ClaimName))
					require.Contains(t, pvc.Spec.AccessModes, "ReadWriteMany")
				}
			}

			require.NotEmpty(t, c.Resources.Requests["cpu"])
			require.NotEmpty(t, c.Resources.Requests["memory"])
			require.NotEmpty(t, c.Resources.Limits["memory"])

			var pdb bool
			for _, o := range objs {
				if o.Kind == "PodDisruptionBudget" {
					p := decodeAs[struct {
						Spec struct {
							Selector struct {
								MatchLabels map[string]string `yaml:"matchLabels"`
							} `yaml:"selector"`
						} `yaml:"spec"`
					}](t, o)
					pdb = pdb || selects(p.Spec.Selector.MatchLabels, labels)
				}
			}
			require.True(t, pdb, "no PodDisruptionBudget covers %s", tt.name)

			if !tt.http {
				require.Empty(t, c.Ports, "cmd/worker serves no HTTP")
				require.Nil(t, c.LivenessProbe)
				require.Nil(t, c.ReadinessProbe)
				return
			}
			port := addrPort(t, cfg.Addr)
			require.Len(t, c.Ports, 1)
			require.Equal(t, port, fmt.Sprint(c.Ports[0].ContainerPort), "containerPort must be RAGQ_ADDR's port")
			for _, p := range []struct {
				probe *probe
				path  string
			}{{c.LivenessProbe, "/healthz"}, {c.ReadinessProbe, "/readyz"}, {c.StartupProbe, "/healthz"}} {
				require.NotNil(t, p.probe)
				require.NotNil(t, p.probe.HTTPGet)
				require.Equal(t, p.path, p.probe.HTTPGet.Path)
				require.Equal(t, port, fmt.Sprint(probePort(t, c, p.probe.HTTPGet.Port)))
			}

			var served bool
			for _, o := range objs {
				if o.Kind != "Service" {
					continue
				}
				s := decodeAs[struct {
					Spec struct {
						Selector map[string]string `yaml:"selector"`
						Ports    []struct {
							TargetPort any `yaml:"targetPort"`
						} `yaml:"ports"`
					} `yaml:"spec"`
				}](t, o)
				if selects(s.Spec.Selector, labels) {
					served = true
					require.Len(t, s.Spec.Ports, 1)
					require.Equal(t, port, fmt.Sprint(probePort(t, c, s.Spec.Ports[0].TargetPort)))
				}
			}
			require.True(t, served, "no Service selects %s", tt.name)
		})
	}
}

func TestK8sKustomization(t *testing.T) {
	t.Parallel()
	objs := k8sObjects(t)
	k := decodeAs[struct {
		Resources []string `yaml:"resources"`
	}](t, findObject(t, objs, "Kustomization", ""))
	files := make(map[string]bool)
	for _, o := range objs {
		files[o.File] = true
	}
	// Applied by hand: the Secret holds real values; KEDA's CRDs may be absent.
	byHand := map[string]bool{"kustomization.yaml": true, "secret.example.yaml": true, "keda.yaml": true}
	for f := range files {
		require.Equal(t, !byHand[f], slices.Contains(k.Resources, f), "kustomization.yaml resources and %s", f)
	}
	for _, r := range k.Resources {
		require.True(t, files[r], "kustomization.yaml lists missing %s", r)
	}
}

// pendingListKey asks asynq, against an in-process Redis, which list holds
// a queue's pending tasks.
func pendingListKey(t *testing.T, queue string) string {
	t.Helper()
	mr := miniredis.RunT(t)
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: mr.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	// A bare task is fine here: only the key layout is under test.
	_, err := client.Enqueue(asynq.NewTask("deploy:probe", nil), asynq.Queue(queue))
	require.NoError(t, err)
	var lists []string
	for _, k := range mr.Keys() {
		if items, err := mr.List(k); err == nil && len(items) == 1 {
			lists = append(lists, k)
		}
	}
	require.Len(t, lists, 1, "asynq wrote more than one list: %v", lists)
	return lists[0]
}

func TestKEDAWatchesEveryPendingList(t *testing.T) {
	t.Parallel()
	objs := k8sObjects(t)
	so := decodeAs[struct {
		Spec struct {
			ScaleTargetRef struct {
				Name string `yaml:"name"`
			} `yaml:"scaleTargetRef"`
			MinReplicaCount int `yaml:"minReplicaCount"`
			Triggers        []struct {
				Type     string            `yaml:"type"`
				Metadata map[string]string `yaml:"metadata"`
			} `yaml:"triggers"`
		} `yaml:"spec"`
	}](t, findObject(t, objs, "ScaledObject", "ragqueue-worker"))
	findObject(t, objs, "Deployment", so.Spec.ScaleTargetRef.Name)
	require.GreaterOrEqual(t, so.Spec.MinReplicaCount, 1, "running tasks are not pending: keep a worker")

	redisURL := decodeAs[stringMaps](t, findObject(t, objs, "ConfigMap", "ragqueue")).Data["RAGQ_REDIS_URL"]
	opt, err := asynq.ParseRedisURI(redisURL)
	require.NoError(t, err)
	ropt, ok := opt.(asynq.RedisClientOpt)
	require.True(t, ok)
	host, port, err := net.SplitHostPort(ropt.Addr)
	require.NoError(t, err)

	watched := make(map[string]bool)
	for _, tr := range so.Spec.Triggers {
		require.Equal(t, "redis", tr.Type)
		require.Equal(t, fmt.Sprint(ropt.DB), tr.Metadata["databaseIndex"], "KEDA must read the database ragqueue uses")
		require.True(t, strings.HasPrefix(tr.Metadata["address"], host+".") && strings.HasSuffix(tr.Metadata["address"], ":"+port),
			"KEDA address %q is not the Service of RAGQ_REDIS_URL %q", tr.Metadata["address"], redisURL)
		require.NotEmpty(t, tr.Metadata["listLength"])
		watched[tr.Metadata["listName"]] = true
	}
	want := make(map[string]bool)
	for q := range jobs.Queues() {
		want[pendingListKey(t, q)] = true
	}
	require.Equal(t, want, watched, "KEDA must watch the pending list of every queue in jobs.Queues()")
}

func TestREADMEDeploying(t *testing.T) {
	t.Parallel()
	readme := readRepoFile(t, "README.md")
	_, deploying, ok := strings.Cut(readme, "\n## Deploying\n")
	require.True(t, ok, "README has no Deploying section")
	deploying, _, _ = strings.Cut(deploying, "\n## ")

	for _, want := range []string{"cp deploy/ragqueue.env.example .env", "--scale worker=", "kubectl apply -k deploy/k8s", "RedisFailoverClientOpt"} {
		require.Contains(t, deploying, want)
	}
	for _, f := range regexp.MustCompile(`deploy/[A-Za-z0-9_./-]+\.(?:yaml|yml|conf|example)\b|deploy/Dockerfile`).FindAllString(deploying, -1) {
		_, err := os.Stat(filepath.Join(repoRoot, filepath.FromSlash(f)))
		require.NoError(t, err, "README's Deploying section names %s", f)
	}

	// The Sentinel URL it shows is one ragqueue accepts, and asynq fails over with it.
	m := regexp.MustCompile("RAGQ_REDIS_URL=(redis-sentinel://[^`\\s]+)").FindStringSubmatch(deploying)
	require.NotNil(t, m, "README shows no Sentinel RAGQ_REDIS_URL")
	cfg, err := LoadConfig(getenvFrom(map[string]string{"RAGQ_REDIS_URL": m[1]}))
	require.NoError(t, err)
	opt, err := asynq.ParseRedisURI(cfg.RedisURL)
	require.NoError(t, err)
	failover, ok := opt.(asynq.RedisFailoverClientOpt)
	require.True(t, ok, "%T", opt)
	require.NotEmpty(t, failover.MasterName)
	require.Len(t, failover.SentinelAddrs, 3)
}

// tool runs name args with a deadline and reports its output.
func tool(ctx context.Context, dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestDockerComposeConfig(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("docker is not installed")
	}
	if out, err := tool(ctx, "", nil, "docker", "compose", "version"); err != nil {
		t.Skipf("the docker compose plugin is not installed: %s", strings.TrimSpace(out))
	}
	// A copy of the project with .env made from the example; only `config`,
	// which validates and prints the model, never starts anything.
	dir := t.TempDir()
	for src, dst := range map[string]string{
		"docker-compose.yml":          "docker-compose.yml",
		"deploy/ragqueue.env.example": ".env",
		"deploy/redis/redis.conf":     "deploy/redis/redis.conf",
		"deploy/Dockerfile":           "deploy/Dockerfile",
	} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(dst)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, dst), []byte(readRepoFile(t, src)), 0o600))
	}
	secrets := []string{"RAGQ_ADMIN_KEY=" + fakeSecret, "POSTGRES_PASSWORD=" + fakeSecret, "QDRANT_API_KEY=" + fakeSecret}
	out, err := tool(ctx, dir, secrets, "docker", "compose", "config", "-q")
	require.NoError(t, err, out)
	out, err = tool(ctx, dir, secrets, "docker", "compose", "--profile", "ollama", "config", "--services")
	require.NoError(t, err, out)
	for _, s := range []string{"api", "worker", "redis", "postgres", "qdrant", "ollama"} {
		require.Contains(t, strings.Fields(out), s)
	}
}

func TestKubectlKustomize(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Renders the manifests locally; talks to no cluster.
	out, err := tool(ctx, "", nil, "kubectl", "kustomize", filepath.Join(repoRoot, "deploy", "k8s"))
	require.NoError(t, err, out)
	for _, want := range []string{"name: ragqueue-api", "name: ragqueue-worker", "name: redis", "namespace: ragqueue"} {
		require.Contains(t, out, want)
	}
}
