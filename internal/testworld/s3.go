package testworld

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"migrate-tui/internal/testtools"
)

// S3 is a real S3 server standing in for the homelab's MinIO: versitygw
// (github.com/versity/versitygw, Apache-2.0) with its posix backend, on
// 127.0.0.1, with a root account generated for this run and its internal IAM
// (--iam-dir) so tests can add accounts that may not create buckets.
type S3 struct {
	Endpoint  string // http://127.0.0.1:PORT
	AccessKey string // root account, generated per run
	SecretKey string
	Dir       string // the posix backend's root: one directory per bucket

	bin  string
	proc *proc
}

// StartS3 starts versitygw in dir (its data, IAM and log live there) and
// waits until it answers. Stop it with Stop.
func StartS3(ctx context.Context, dir string) (*S3, error) {
	bin, err := testtools.Bin("versitygw")
	if err != nil {
		return nil, err
	}
	s := &S3{Dir: filepath.Join(dir, "s3-data"), bin: bin}
	iam := filepath.Join(dir, "s3-iam")
	for _, d := range []string{s.Dir, iam} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	if s.AccessKey, err = randomHex(10); err != nil {
		return nil, err
	}
	if s.SecretKey, err = randomHex(20); err != nil {
		return nil, err
	}
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	s.Endpoint = "http://" + addr
	// The root credentials go in the environment (ROOT_ACCESS_KEY_ID,
	// ROOT_SECRET_ACCESS_KEY), never on the command line or in the log.
	env := append(os.Environ(), "ROOT_ACCESS_KEY_ID="+s.AccessKey, "ROOT_SECRET_ACCESS_KEY="+s.SecretKey)
	s.proc, err = startProcEnv(dir, "versitygw", bin, env,
		"--port", addr, "--iam-dir", iam, "posix", s.Dir)
	if err != nil {
		return nil, err
	}
	// Ready when the port serves HTTP (an unauthenticated request gets an S3
	// error document, which is an answer). The bound is a hang guard (a
	// process that died ends the wait at once), never a start-up window.
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		if s.proc.exited() {
			return false, s.proc.diedError()
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint+"/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return true, nil
	})
	if err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("versitygw did not answer on %s: %w", addr, err)
	}
	return s, nil
}

// CreateAccount adds an account through versitygw's admin API. Role "user"
// may use buckets it is given but not create any; "userplus" may create
// buckets; "admin" may do everything.
func (s *S3) CreateAccount(ctx context.Context, access, secret, role string) error {
	return s.admin(ctx, "create-user", "--access", access, "--secret", secret, "--role", role)
}

// ChangeBucketOwner gives bucket to the account access.
func (s *S3) ChangeBucketOwner(ctx context.Context, bucket, access string) error {
	return s.admin(ctx, "change-bucket-owner", "--bucket", bucket, "--owner", access)
}

func (s *S3) admin(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, s.bin, append([]string{"admin", "--endpoint-url", s.Endpoint}, args...)...)
	cmd.Env = append(os.Environ(), "ADMIN_ACCESS_KEY_ID="+s.AccessKey, "ADMIN_SECRET_ACCESS_KEY="+s.SecretKey)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("versitygw admin %s: %w: %s", args[0], err, out)
	}
	return nil
}

// Stop ends the server.
func (s *S3) Stop() error {
	if s == nil || s.proc == nil {
		return nil
	}
	return s.proc.stop(10 * time.Second)
}
