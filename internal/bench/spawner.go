package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

// Why a spawner: Go starts children with vfork (CLONE_VM), so on Linux a
// child's ru_maxrss starts at the parent's own peak RSS — and the harness
// holds graphsim's tenant, gigabytes at 500k users. The harness therefore
// re-executes itself, before it loads anything, as a small spawner process
// that starts every hrsync child: their ru_maxrss is then their own (never
// below the spawner's peak of a few MiB, which the results state).

// spawnerEnv, set to "1", makes the harness binary run as the spawner.
const spawnerEnv = "BENCH_INTERNAL_SPAWNER"

// spawnRequest asks the spawner to run one child to completion.
type spawnRequest struct {
	Bin    string   `json:"bin"`
	Args   []string `json:"args"`
	Dir    string   `json:"dir"`
	Env    []string `json:"env"`
	Stdout string   `json:"stdout"` // file for the child's stdout
	Stderr string   `json:"stderr"` // file for the child's stderr
}

// spawnResult is the spawner's answer.
type spawnResult struct {
	Wall    time.Duration `json:"wall"`
	Code    int           `json:"code"`
	PeakRSS int64         `json:"peak_rss"` // the child's, bytes
	Floor   int64         `json:"floor"`    // the spawner's own peak RSS, bytes
	Err     string        `json:"err,omitempty"`
}

// runSpawner serves requests, one JSON line each, from in and answers on
// out. When in closes while a child runs, the child is killed: the harness
// is gone or cancelled.
func runSpawner(in io.Reader, out io.Writer) error {
	reqs := make(chan spawnRequest)
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		dec := json.NewDecoder(bufio.NewReader(in))
		for {
			var r spawnRequest
			if err := dec.Decode(&r); err != nil {
				return
			}
			reqs <- r // one at a time: the harness waits for each answer
		}
	}()
	enc := json.NewEncoder(out)
	for {
		select {
		case <-gone:
			return nil
		case r := <-reqs:
			res := spawnOne(r, gone)
			res.Floor = selfPeakRSS()
			if err := enc.Encode(res); err != nil {
				return fmt.Errorf("spawner: answer: %w", err)
			}
		}
	}
}

// spawnOne runs one child, killing it if gone closes first.
func spawnOne(r spawnRequest, gone <-chan struct{}) spawnResult {
	stdout, err := os.Create(r.Stdout)
	if err != nil {
		return spawnResult{Err: err.Error()}
	}
	defer stdout.Close()
	stderr, err := os.Create(r.Stderr)
	if err != nil {
		return spawnResult{Err: err.Error()}
	}
	defer stderr.Close()
	cmd := exec.Command(r.Bin, r.Args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = r.Dir, r.Env, stdout, stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return spawnResult{Err: err.Error()}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-gone:
		_ = cmd.Process.Kill()
		<-done
		return spawnResult{Err: "cancelled"}
	}
	res := spawnResult{Wall: time.Since(start), Code: cmd.ProcessState.ExitCode(), PeakRSS: peakRSS(cmd.ProcessState)}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		res.Err = err.Error()
	}
	return res
}

// spawner is the harness's end of a running spawner process.
type spawner struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	dec *json.Decoder
}

// startSpawner re-executes the harness binary as the spawner. Cancelling
// ctx closes its input, which kills a running child and ends it.
func startSpawner(ctx context.Context) (*spawner, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start spawner: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), spawnerEnv+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start spawner: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start spawner: %w", err)
	}
	cmd.Cancel = in.Close
	cmd.WaitDelay = 15 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start spawner: %w", err)
	}
	return &spawner{cmd: cmd, in: in, dec: json.NewDecoder(out)}, nil
}

// run has the spawner run one child and waits for it.
func (s *spawner) run(ctx context.Context, r spawnRequest) (spawnResult, error) {
	if err := ctx.Err(); err != nil {
		return spawnResult{}, err
	}
	line, err := json.Marshal(r)
	if err != nil {
		return spawnResult{}, fmt.Errorf("spawner request: %w", err)
	}
	if _, err := s.in.Write(append(line, '\n')); err != nil {
		return spawnResult{}, fmt.Errorf("spawner request: %w", err)
	}
	var res spawnResult
	if err := s.dec.Decode(&res); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return spawnResult{}, cerr
		}
		return spawnResult{}, fmt.Errorf("spawner answer: %w", err)
	}
	if res.Err != "" {
		return res, errors.New(res.Err)
	}
	return res, nil
}

// close ends the spawner.
func (s *spawner) close() error {
	_ = s.in.Close()
	if err := s.cmd.Wait(); err != nil {
		return fmt.Errorf("spawner: %w", err)
	}
	return nil
}
