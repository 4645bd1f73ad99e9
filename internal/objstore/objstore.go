// Package objstore checks, through the S3 API (github.com/minio/minio-go),
// that a Litestream bucket exists and is writable before the services stage
// deploys a copy that replicates into it: it creates the bucket when the
// credentials allow, and says exactly what to create when they do not. It
// never writes into a bucket named as forbidden (the Nomad copy's).
package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// ProbePrefix is where the writability probe object goes; it is deleted
// again at once.
const ProbePrefix = "migrate-tui-probe/"

// Credentials are an S3 access key pair. They are never printed: String
// and GoString redact them.
type Credentials struct {
	AccessKey string
	SecretKey string
}

func (c Credentials) String() string   { return "Credentials{redacted}" }
func (c Credentials) GoString() string { return c.String() }

// Target is the bucket a copy replicates to.
type Target struct {
	Endpoint string // http(s)://host:port
	Bucket   string
	Creds    Credentials
	// CredsFrom says where the credentials came from (a Vault key, the
	// environment), for messages; never the credentials themselves.
	CredsFrom string
	// Forbidden are buckets this check must never write (the Nomad copy's).
	Forbidden []string
}

// Result is what Ensure checked and did.
type Result struct {
	Created bool     // the bucket was made by this check
	Checked []string // what was observed, in order
}

// Ensure checks that t.Bucket exists (creating it when the credentials
// allow) and that an object can be written and deleted under ProbePrefix.
// Failures are *ForbiddenBucketError, *UnreachableError, *BucketMissingError
// or *NotWritableError, each naming the next step.
func Ensure(ctx context.Context, t Target) (Result, error) {
	var res Result
	if slices.Contains(t.Forbidden, t.Bucket) {
		return res, &ForbiddenBucketError{Bucket: t.Bucket}
	}
	cl, err := client(t)
	if err != nil {
		return res, err
	}
	exists, err := cl.BucketExists(ctx, t.Bucket)
	if err != nil {
		return res, classify(t, "look up bucket", err)
	}
	if exists {
		res.Checked = append(res.Checked, "bucket "+t.Bucket+" exists")
	} else {
		if err := cl.MakeBucket(ctx, t.Bucket, minio.MakeBucketOptions{}); err != nil {
			if code := minio.ToErrorResponse(err).Code; code == "BucketAlreadyOwnedByYou" {
				res.Checked = append(res.Checked, "bucket "+t.Bucket+" exists")
			} else if isDenied(err) {
				return res, &BucketMissingError{Target: t, Cause: err}
			} else {
				return res, classify(t, "create bucket", err)
			}
		} else {
			res.Created = true
			res.Checked = append(res.Checked, "bucket "+t.Bucket+" created")
		}
	}
	if err := probe(ctx, cl, t); err != nil {
		return res, err
	}
	res.Checked = append(res.Checked, "wrote and deleted a probe object under "+t.Bucket+"/"+ProbePrefix)
	return res, nil
}

func client(t Target) (*minio.Client, error) {
	u, err := url.Parse(t.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("S3 endpoint %q is not http(s)://host:port (minio_endpoint in terraform.tfvars)", t.Endpoint)
	}
	// Path-style requests, as the Litestream config (force-path-style) uses.
	return minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(t.Creds.AccessKey, t.Creds.SecretKey, ""),
		Secure:       u.Scheme == "https",
		BucketLookup: minio.BucketLookupPath,
	})
}

// probe writes a small object under ProbePrefix, deletes it and checks it
// is gone.
func probe(ctx context.Context, cl *minio.Client, t Target) error {
	key := ProbePrefix + randomName()
	body := []byte("migrate-tui writability probe; safe to delete\n")
	if _, err := cl.PutObject(ctx, t.Bucket, key, bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{ContentType: "text/plain"}); err != nil {
		if isDenied(err) {
			return &NotWritableError{Target: t, Op: "write " + key, Cause: err}
		}
		return classify(t, "write a probe object", err)
	}
	if err := cl.RemoveObject(ctx, t.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return &NotWritableError{Target: t, Op: "delete " + key + " (the probe object is left behind)", Cause: err}
	}
	if _, err := cl.StatObject(ctx, t.Bucket, key, minio.StatObjectOptions{}); err == nil {
		return &NotWritableError{Target: t, Op: "delete " + key + " (still there after the delete)"}
	} else if minio.ToErrorResponse(err).Code != "NoSuchKey" && !strings.Contains(err.Error(), "does not exist") {
		return classify(t, "check the probe object is gone", err)
	}
	return nil
}

func isDenied(err error) bool {
	switch minio.ToErrorResponse(err).Code {
	case "AccessDenied", "AllAccessDisabled", "AccessForbidden":
		return true
	}
	return minio.ToErrorResponse(err).StatusCode == 403 && !badCredentials(err)
}

func badCredentials(err error) bool {
	switch minio.ToErrorResponse(err).Code {
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidClientTokenId", "ExpiredToken":
		return true
	}
	return false
}

// classify turns any other failure into an *UnreachableError (endpoint or
// credentials wrong), or a *NotWritableError for a denial.
func classify(t Target, op string, err error) error {
	if isDenied(err) {
		return &NotWritableError{Target: t, Op: op, Cause: err}
	}
	return &UnreachableError{Target: t, Op: op, Cause: err, BadCredentials: badCredentials(err)}
}

var errNoRandom = errors.New("no randomness")
