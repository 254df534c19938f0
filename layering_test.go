package ragqueue_test

import (
	"bytes"
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The dependency rules of the layout (see README, "Architecture"), checked
// on what `go list -deps` says each package links, test files left out.
// Test-helper packages (their name ends in "test": storetest, jobstest,
// indextest, ...) are linked into tests only and are not checked.

// goPkg is one package as `go list -deps` describes it.
type goPkg struct {
	path, name string
	imports    []string // direct, non-test imports
}

// layerRule forbids a set of packages to link another set.
type layerRule struct {
	name string
	// subject says which packages the rule applies to.
	subject func(p goPkg) bool
	// forbidden says which imports they may not link, directly or through
	// other packages.
	forbidden func(path string) bool
	// skip names packages whose imports are not followed: what the subject
	// links through them is allowed.
	skip func(path string) bool
	// direct checks the subject's own imports only: what it links through
	// the packages it may import is theirs to decide.
	direct bool
}

// violation is a forbidden package a subject links, and how.
type violation struct {
	subject, forbidden string
	chain              []string
}

func TestLayering(t *testing.T) {
	t.Parallel()
	mod, pkgs := listPackages(t)
	for _, msg := range brokenRules(mod, pkgs) {
		t.Error(msg)
	}
}

// TestLayeringReports checks the checker on a made-up module: every broken
// rule is reported with the import chain that breaks it, test helpers are
// not checked, and cmd/api may link adapters through cmd/internal/app.
func TestLayeringReports(t *testing.T) {
	t.Parallel()
	const m = "example.com/rq"
	pkgs := map[string]goPkg{}
	add := func(path string, imports ...string) {
		name := path[strings.LastIndex(path, "/")+1:]
		pkgs[path] = goPkg{path: path, name: name, imports: imports}
	}
	add(m, "fmt")
	add("fmt")
	add(m+"/obs", m)
	add(m + "/obs/trace")
	add(m+"/jobs", m, m+"/obs")
	add(m+"/jobs/queries", m+"/jobs", m+"/retrieval", m+"/jobs/crawls")
	add(m+"/jobs/crawls", m+"/ingest/web") // allowed: cmd/api links it only through a feature
	add(m+"/jobs/spaces", m+"/jobs")
	add(m+"/jobs/jobstest", m+"/jobs", m+"/storage/sqlite")
	add(m+"/retrieval", m)
	add(m+"/ingest", m)
	add(m+"/ingest/web", m+"/ingest")
	add(m+"/storage", m)
	add(m+"/storage/sqlite", m+"/storage", m+"/retrieval")
	add(m+"/storage/storetest", m+"/storage", m+"/jobs")
	add(m+"/cmd/internal/app", m+"/storage/sqlite", m+"/jobs/queries", m+"/ingest/web")
	add(m+"/cmd/api", m+"/cmd/internal/app", m+"/jobs/queries", "github.com/gin-gonic/gin")
	add(m+"/cmd/worker", m+"/cmd/internal/app")
	add("github.com/gin-gonic/gin")
	require := func(want ...string) {
		t.Helper()
		got := brokenRules(m, pkgs)
		if !slices.Equal(got, want) {
			t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	require() // the layout as it should be

	add(m, "fmt", m+"/obs")
	add(m+"/storage", m, m+"/jobs")
	add(m+"/retrieval", m, m+"/storage")
	add(m+"/jobs", m, m+"/obs", m+"/obs/trace")
	add(m+"/obs/trace", m+"/jobs/spaces")
	add(m+"/cmd/api", m+"/cmd/internal/app", m+"/jobs/queries", m+"/ingest/web")
	add(m+"/cmd/internal/app", m+"/storage/sqlite", m+"/jobs/queries", "github.com/gin-gonic/gin")
	require(
		"rule broken: the root package imports no package of this module (1 violation)"+
			"\n\tragqueue (root) links obs: ragqueue (root) → obs",
		"rule broken: no package under storage/ imports jobs or jobs/... (2 violations)"+
			"\n\tstorage links jobs: storage → jobs"+
			"\n\tstorage/sqlite links jobs: storage/sqlite → storage → jobs",
		"rule broken: ingest and retrieval (and their sub-packages) import neither jobs nor storage (1 violation)"+
			"\n\tretrieval links storage: retrieval → storage",
		"rule broken: jobs imports no jobs/... feature package (1 violation)"+
			"\n\tjobs links jobs/spaces: jobs → obs/trace → jobs/spaces",
		"rule broken: cmd/api links no storage/... adapter, except through cmd/internal/app (1 violation)"+
			"\n\tcmd/api links storage: cmd/api → jobs/queries → retrieval → storage",
		"rule broken: cmd/api imports no ingest/web (1 violation)"+
			"\n\tcmd/api links ingest/web: cmd/api → ingest/web",
		"rule broken: cmd/worker links neither gin nor the WebSocket library nor asynqmon (1 violation)"+
			"\n\tcmd/worker links github.com/gin-gonic/gin: cmd/worker → cmd/internal/app → github.com/gin-gonic/gin",
	)
}

// layerRules are the rules of the issue, for module mod.
func layerRules(mod string) []layerRule {
	under := func(path, dir string) bool {
		return path == mod+"/"+dir || strings.HasPrefix(path, mod+"/"+dir+"/")
	}
	is := func(dir string) func(goPkg) bool {
		return func(p goPkg) bool { return p.path == mod+"/"+dir }
	}
	within := func(dirs ...string) func(goPkg) bool {
		return func(p goPkg) bool {
			return !strings.HasSuffix(p.name, "test") && slices.ContainsFunc(dirs, func(d string) bool { return under(p.path, d) })
		}
	}
	thirdParty := func(prefixes ...string) func(string) bool {
		return func(path string) bool {
			return slices.ContainsFunc(prefixes, func(p string) bool { return path == p || strings.HasPrefix(path, p+"/") })
		}
	}
	return []layerRule{
		{
			name:      "the root package imports no package of this module",
			subject:   func(p goPkg) bool { return p.path == mod },
			forbidden: func(path string) bool { return strings.HasPrefix(path, mod+"/") },
		},
		{
			name:      "no package under storage/ imports jobs or jobs/...",
			subject:   within("storage"),
			forbidden: func(path string) bool { return under(path, "jobs") },
		},
		{
			name:      "ingest and retrieval (and their sub-packages) import neither jobs nor storage",
			subject:   within("ingest", "retrieval"),
			forbidden: func(path string) bool { return under(path, "jobs") || under(path, "storage") },
		},
		{
			name:      "jobs imports no jobs/... feature package",
			subject:   is("jobs"),
			forbidden: func(path string) bool { return strings.HasPrefix(path, mod+"/jobs/") },
		},
		{
			name:      "cmd/api links no storage/... adapter, except through cmd/internal/app",
			subject:   is("cmd/api"),
			forbidden: func(path string) bool { return under(path, "storage") },
			skip:      func(path string) bool { return path == mod+"/cmd/internal/app" },
		},
		{
			// The feature packages cmd/api calls fetch through ingest/web;
			// cmd/api itself must not.
			name:      "cmd/api imports no ingest/web",
			subject:   is("cmd/api"),
			forbidden: func(path string) bool { return under(path, "ingest/web") },
			direct:    true,
		},
		{
			name:      "cmd/worker links neither gin nor the WebSocket library nor asynqmon",
			subject:   is("cmd/worker"),
			forbidden: thirdParty("github.com/gin-gonic/gin", "github.com/gin-contrib", "github.com/coder/websocket", "github.com/hibiken/asynqmon"),
		},
	}
}

// brokenRules checks every rule on pkgs and returns one message per broken
// rule, listing each forbidden package a subject links and how.
func brokenRules(mod string, pkgs map[string]goPkg) []string {
	rel := func(path string) string {
		if path == mod {
			return "ragqueue (root)"
		}
		return strings.TrimPrefix(path, mod+"/")
	}
	paths := slices.Sorted(maps.Keys(pkgs))
	var msgs []string
	for _, r := range layerRules(mod) {
		var subjects int
		var found []violation
		for _, path := range paths {
			if !r.subject(pkgs[path]) {
				continue
			}
			subjects++
			found = append(found, violations(pkgs, path, r)...)
		}
		if subjects == 0 {
			msgs = append(msgs, "rule "+strconv.Quote(r.name)+" applies to no package: has the layout changed?")
			continue
		}
		if len(found) == 0 {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "rule broken: %s (%d %s)", r.name, len(found), map[bool]string{true: "violation", false: "violations"}[len(found) == 1])
		for _, v := range found {
			chain := make([]string, len(v.chain))
			for i, c := range v.chain {
				chain[i] = rel(c)
			}
			b.WriteString("\n\t" + rel(v.subject) + " links " + rel(v.forbidden) + ": " + strings.Join(chain, " → "))
		}
		msgs = append(msgs, b.String())
	}
	return msgs
}

// violations walks what from links, breadth first, and returns each
// forbidden package it reaches with the shortest import chain to it.
func violations(pkgs map[string]goPkg, from string, r layerRule) []violation {
	parent := map[string]string{from: ""}
	queue := []string{from}
	var out []violation
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur != from && r.skip != nil && r.skip(cur) {
			continue
		}
		for _, imp := range pkgs[cur].imports {
			if _, seen := parent[imp]; seen {
				continue
			}
			parent[imp] = cur
			if r.forbidden(imp) {
				var chain []string
				for c := imp; c != ""; c = parent[c] {
					chain = append(chain, c)
				}
				slices.Reverse(chain)
				out = append(out, violation{subject: from, forbidden: imp, chain: chain})
				continue // what it links in turn is its own rule's business
			}
			if !r.direct {
				queue = append(queue, imp)
			}
		}
	}
	slices.SortFunc(out, func(a, b violation) int { return strings.Compare(a.forbidden, b.forbidden) })
	return out
}

// listPackages runs `go list -deps` on every package of the module and
// returns the module path and every package linked, by import path.
func listPackages(t *testing.T) (string, map[string]goPkg) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	run := func(args ...string) string {
		cmd := exec.Command(goBin, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return string(out)
	}
	mod := strings.TrimSpace(run("list", "-m", "-f", "{{.Path}}"))
	out := run("list", "-deps", "-f", "{{.ImportPath}}\t{{.Name}}\t{{join .Imports \" \"}}", "./...")
	pkgs := make(map[string]goPkg)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		fields := strings.SplitN(line, "\t", 3)
		if len(fields) != 3 {
			t.Fatalf("go list: unexpected line %q", line)
		}
		pkgs[fields[0]] = goPkg{path: fields[0], name: fields[1], imports: strings.Fields(fields[2])}
	}
	if _, ok := pkgs[mod]; !ok {
		t.Fatalf("go list: the module's root package %s is missing", mod)
	}
	return mod, pkgs
}
