package main

// The agent's configuration, read once from its environment (docs/architecture.md, "Agent
// control protocol"). Every rule here is config.py's, so both agents accept the same input.

import (
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

const tokenVariable = "LAMBKIN_CONTROL_TOKEN"

type hostPort struct {
	host string
	port int
}

type runtimeUser struct {
	uid, gid uint32
}

type config struct {
	runtimeCmd     []string
	controlToken   string
	controlAddr    hostPort
	runtimeAPIAddr hostPort
	xrayAddr       hostPort // where the X-Ray SDKs' UDP datagrams are received (xray.go)
	runtimeEnv     map[string]string
	runtimeCwd     string
	instanceID     string
	initTimeoutS   float64
	memorySource   string
	runtimeUser    *runtimeUser // nil: the runtime runs as the agent's own user
	logPath        string       // where log events go; "" means stdout
	systemLevel    string       // LoggingConfig.SystemLogLevel: DEBUG, INFO (default) or WARN
	// vacant: started with no function (LAMBKIN_VACANT=1); runtimeCmd, runtimeEnv, runtimeCwd
	// and initTimeoutS arrive once, over the control channel (POST /specialise).
	vacant bool
	// fileRoots (LAMBKIN_FILE_ROOTS, a JSON object: name -> directory): where PUT /files/<name>
	// unpacks a tar while the instance is vacant (files.go). Empty: no such route. For drivers
	// whose instances run where the control plane's files are not (the swarm driver).
	fileRoots map[string]string
	// logServe (LAMBKIN_LOG_SERVE=1): GET /logs streams the log file (logserve.go), for a
	// control plane that cannot read the file itself.
	logServe bool
	// debugPort: the port a debugger listens on in this instance (debugger.go); 0: none. While
	// a client is connected to it, the function's timeout does not run.
	debugPort int
}

// vacantVariable starts the agent with no function, so the control plane can keep it ready and
// hand it the first function that needs a cold start (docs/architecture.md, "Vacant instances").
const vacantVariable = "LAMBKIN_VACANT"

// functionPart is what makes an instance one function's: the runtime's command, environment,
// working directory and init bound. From the environment at start, or from /specialise.
type functionPart struct {
	cmd          []string
	env          map[string]string
	cwd          string
	initTimeoutS float64
	systemLevel  string // LoggingConfig.SystemLogLevel, taken out of env (the runtime never sees it)
}

func (c *config) adopt(f functionPart) {
	c.runtimeCmd, c.runtimeEnv, c.runtimeCwd, c.initTimeoutS = f.cmd, f.env, f.cwd, f.initTimeoutS
	c.systemLevel = f.systemLevel
	c.vacant = false
}

// systemLevelVariable carries LoggingConfig.SystemLogLevel in LAMBKIN_RUNTIME_ENV; the agent
// takes it out, so the runtime's environment stays AWS's.
const systemLevelVariable = "LAMBKIN_SYSTEM_LOG_LEVEL"

// jsonLogs: LoggingConfig.LogFormat is JSON, so the platform's records are JSON objects
// (`platform.start`, `platform.report`, ...) instead of START / END / REPORT lines.
func (c *config) jsonLogs() bool {
	return c.runtimeEnv["AWS_LAMBDA_LOG_FORMAT"] == "JSON"
}

// systemRecordsShown: whether records of `level` pass LoggingConfig.SystemLogLevel (INFO by
// default; DEBUG < INFO < WARN). Text logs are never filtered.
func (c *config) systemRecordsShown(level string) bool {
	if !c.jsonLogs() {
		return true
	}
	rank := map[string]int{"DEBUG": 0, "INFO": 1, "WARN": 2}
	want, ok := rank[c.systemLevel]
	if !ok {
		want = 1
	}
	return rank[level] >= want
}

// readFunctionPart applies LAMBKIN_RUNTIME_CMD's, _ENV's, _CWD's and _INIT_TIMEOUT_S's rules;
// get returns the value or its default.
func readFunctionPart(get func(name, def string) string) (functionPart, error) {
	var f functionPart
	f.cmd = jsonStrings(get("LAMBKIN_RUNTIME_CMD", "null"))
	if len(f.cmd) == 0 {
		return f, errors.New("LAMBKIN_RUNTIME_CMD: required, a non-empty JSON list of strings")
	}
	f.env = jsonStringMap(get("LAMBKIN_RUNTIME_ENV", "{}"))
	if f.env == nil {
		return f, errors.New("LAMBKIN_RUNTIME_ENV: a JSON object of strings to strings")
	}
	timeout, err := strconv.ParseFloat(strings.TrimSpace(get("LAMBKIN_INIT_TIMEOUT_S", "10")), 64)
	if err != nil {
		return f, errors.New("LAMBKIN_INIT_TIMEOUT_S: not a number")
	}
	if !(timeout > 0) {
		return f, errors.New("LAMBKIN_INIT_TIMEOUT_S: must be positive")
	}
	f.initTimeoutS = timeout
	f.cwd = get("LAMBKIN_RUNTIME_CWD", "/var/task")
	if level, ok := f.env[systemLevelVariable]; ok {
		f.systemLevel = level
		delete(f.env, systemLevelVariable)
	}
	return f, nil
}

// parseSpecialisation reads a /specialise body: a JSON object of the same four settings under
// their environment names, every value a JSON string (LAMBKIN_RUNTIME_CMD and _ENV hold JSON
// text, as in the environment), so one set of rules covers both ways in.
func parseSpecialisation(body []byte) (functionPart, error) {
	fields := jsonStringMap(string(body))
	if fields == nil {
		return functionPart{}, errors.New("the body must be a JSON object of strings")
	}
	for name := range fields {
		switch name {
		case "LAMBKIN_RUNTIME_CMD", "LAMBKIN_RUNTIME_ENV", "LAMBKIN_RUNTIME_CWD", "LAMBKIN_INIT_TIMEOUT_S":
		default:
			return functionPart{}, errors.New("unknown setting " + pyRepr(name))
		}
	}
	return readFunctionPart(func(name, def string) string {
		if v, ok := fields[name]; ok {
			return v
		}
		return def
	})
}

// functionVersion, provisioned and memorySizeMB are read from the runtime's environment,
// which is where the control plane puts the function's facts.
func (c *config) functionVersion() string {
	if v, ok := c.runtimeEnv["AWS_LAMBDA_FUNCTION_VERSION"]; ok {
		return v
	}
	return "$LATEST"
}

// provisioned: such instances init ahead of demand, so their first REPORT has no Init Duration.
func (c *config) provisioned() bool {
	return c.runtimeEnv["AWS_LAMBDA_INITIALIZATION_TYPE"] == "provisioned-concurrency"
}

func (c *config) memorySizeMB() int {
	v, ok := c.runtimeEnv["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
	if !ok {
		v = "128"
	}
	if n, err := strconv.Atoi(v); err == nil && allDigits(v) {
		return n
	}
	return 128
}

// allDigits is str.isdigit for what we accept: ASCII digits only, at least one.
func allDigits(s string) bool {
	return s != "" && allBytes(s, isDigit)
}

// parseAddr: `host:port` or `[v6]:port`; an empty host is 0.0.0.0; port 0 is any free port.
func parseAddr(value, name string) (hostPort, error) {
	i := strings.LastIndexByte(value, ':')
	if i < 0 || !allDigits(value[i+1:]) {
		return hostPort{}, errors.New(name + ": expected host:port, got " + pyRepr(value))
	}
	port, err := strconv.Atoi(value[i+1:])
	if err != nil || port > 65535 {
		return hostPort{}, errors.New(name + ": expected host:port, got " + pyRepr(value))
	}
	host := strings.Trim(value[:i], "[]")
	if host == "" {
		host = "0.0.0.0"
	}
	return hostPort{host, port}, nil
}

func parseUser(value string) (*runtimeUser, error) {
	if value == "" {
		return nil, nil
	}
	uidText, gidText, found := strings.Cut(value, ":")
	uid, err1 := strconv.ParseUint(uidText, 10, 32)
	gid, err2 := strconv.ParseUint(gidText, 10, 32)
	if !found || !allDigits(uidText) || !allDigits(gidText) || err1 != nil || err2 != nil {
		return nil, errors.New("LAMBKIN_RUNTIME_USER: expected uid:gid (numbers), got " + pyRepr(value))
	}
	return &runtimeUser{uint32(uid), uint32(gid)}, nil
}

// pyRepr quotes a value for an error message, close enough to Python's repr.
func pyRepr(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "\\'") + "'"
}

// randomID: 16 random bytes in hex (from the clock, should /dev/urandom be unreadable).
func randomID() string {
	b := make([]byte, 16)
	f, err := os.Open("/dev/urandom")
	if err == nil {
		_, err = io.ReadFull(f, b)
		f.Close()
	}
	if err != nil {
		now := uint64(time.Now().UnixNano())
		for i := range b {
			b[i] = byte(now >> (8 * (i % 8)))
		}
		b[15] ^= byte(os.Getpid())
	}
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// jsonStrings reads LAMBKIN_RUNTIME_CMD: a JSON list of strings (nil unless it is one).
func jsonStrings(text string) []string {
	v, err := parsePyJSON(text, jsonOptions{allowConstants: true})
	if err != nil || !v.isArr {
		return nil
	}
	out := make([]string, 0, len(v.items))
	for _, item := range v.items {
		if !item.isStr {
			return nil
		}
		out = append(out, string(item.str))
	}
	return out
}

// jsonStringMap reads LAMBKIN_RUNTIME_ENV: a JSON object of strings (nil unless it is one;
// a repeated key keeps its last value).
func jsonStringMap(text string) map[string]string {
	v, err := parsePyJSON(text, jsonOptions{allowConstants: true})
	if err != nil || !v.isObj {
		return nil
	}
	out := make(map[string]string, len(v.members))
	for _, m := range v.members {
		if !m.value.isStr {
			return nil
		}
		out[string(m.name)] = string(m.value.str)
	}
	return out
}

// loadConfig reads the configuration; lookup is os.LookupEnv in main, a map in tests.
func loadConfig(lookup func(string) (string, bool)) (*config, error) {
	get := func(name, def string) string {
		if v, ok := lookup(name); ok {
			return v
		}
		return def
	}
	c := &config{vacant: get(vacantVariable, "") == "1"}
	if !c.vacant {
		f, err := readFunctionPart(get)
		if err != nil {
			return nil, err
		}
		c.adopt(f)
	}
	var err error
	c.memorySource = get("LAMBKIN_MEMORY_SOURCE", "cgroup")
	if c.memorySource != "cgroup" && c.memorySource != "proc" {
		return nil, errors.New("LAMBKIN_MEMORY_SOURCE: one of cgroup, proc")
	}
	c.controlToken = get(tokenVariable, "")
	if c.controlToken == "" {
		return nil, errors.New(tokenVariable + ": required (the secret every control request must carry); " +
			"the agent has no unauthenticated mode")
	}
	if !isPrintableASCII(c.controlToken) {
		return nil, errors.New(tokenVariable + ": printable ASCII only (it travels in a header)")
	}
	if c.controlAddr, err = parseAddr(get("LAMBKIN_CONTROL_ADDR", "0.0.0.0:9002"), "LAMBKIN_CONTROL_ADDR"); err != nil {
		return nil, err
	}
	if c.runtimeAPIAddr, err = parseAddr(get("LAMBKIN_RUNTIME_API_ADDR", "127.0.0.1:9001"), "LAMBKIN_RUNTIME_API_ADDR"); err != nil {
		return nil, err
	}
	if c.xrayAddr, err = parseAddr(get("LAMBKIN_XRAY_DAEMON_ADDR", xrayDefaultAddr), "LAMBKIN_XRAY_DAEMON_ADDR"); err != nil {
		return nil, err
	}
	c.instanceID = get("LAMBKIN_INSTANCE_ID", "")
	if c.instanceID == "" {
		c.instanceID = randomID()
	}
	if c.runtimeUser, err = parseUser(get("LAMBKIN_RUNTIME_USER", "")); err != nil {
		return nil, err
	}
	c.logPath = get("LAMBKIN_LOG_PATH", "")
	if roots := get("LAMBKIN_FILE_ROOTS", ""); roots != "" {
		if c.fileRoots = jsonStringMap(roots); c.fileRoots == nil {
			return nil, errors.New("LAMBKIN_FILE_ROOTS: a JSON object of names to directories")
		}
		for name, dir := range c.fileRoots {
			if !strings.HasPrefix(dir, "/") || name == "" || strings.Contains(name, "/") {
				return nil, errors.New("LAMBKIN_FILE_ROOTS: each a name (no slash) and an absolute directory, got " + pyRepr(name) + ": " + pyRepr(dir))
			}
		}
	}
	c.logServe = get("LAMBKIN_LOG_SERVE", "") == "1"
	if c.logServe && c.logPath == "" {
		return nil, errors.New("LAMBKIN_LOG_SERVE needs LAMBKIN_LOG_PATH: the file to serve")
	}
	if c.debugPort, err = parseDebugPort(get(debugPortVariable, "")); err != nil {
		return nil, err
	}
	return c, nil
}
