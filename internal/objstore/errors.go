package objstore

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// ForbiddenBucketError: the bucket is one this check must never write
// (the Nomad copy's). Nothing was sent to the server.
type ForbiddenBucketError struct{ Bucket string }

func (e *ForbiddenBucketError) Error() string {
	return fmt.Sprintf("bucket %s is the Nomad copy's Litestream bucket: the Kubernetes copy must never write it (two writers corrupt each other's generations); set overseerr_litestream_bucket to a bucket of its own (e.g. overseerr-k8s-litestream)", e.Bucket)
}

// UnreachableError: the endpoint did not answer, or refused the
// credentials.
type UnreachableError struct {
	Target         Target
	Op             string
	Cause          error
	BadCredentials bool
}

func (e *UnreachableError) Error() string {
	if e.BadCredentials {
		return fmt.Sprintf("S3 at %s refused the credentials from %s (%s: %v): check MINIO_ACCESS_KEY and MINIO_SECRET_KEY there name a user of that MinIO", e.Target.Endpoint, e.Target.CredsFrom, e.Op, e.Cause)
	}
	return fmt.Sprintf("S3 at %s could not be used to %s (%v): check minio_endpoint in terraform.tfvars and that this machine reaches it", e.Target.Endpoint, e.Op, e.Cause)
}

func (e *UnreachableError) Unwrap() error { return e.Cause }

// BucketMissingError: the bucket does not exist and the credentials may
// not create it. Next says exactly what to create.
type BucketMissingError struct {
	Target Target
	Cause  error
}

func (e *BucketMissingError) Error() string {
	return fmt.Sprintf("bucket %s does not exist at %s and the credentials from %s may not create it (%v). %s",
		e.Target.Bucket, e.Target.Endpoint, e.Target.CredsFrom, e.Cause, Next(e.Target, true))
}

func (e *BucketMissingError) Unwrap() error { return e.Cause }

// NotWritableError: the bucket exists (or could not be seen) but an object
// could not be written or deleted.
type NotWritableError struct {
	Target Target
	Op     string
	Cause  error
}

func (e *NotWritableError) Error() string {
	cause := ""
	if e.Cause != nil {
		cause = fmt.Sprintf(" (%v)", e.Cause)
	}
	return fmt.Sprintf("the credentials from %s cannot %s in bucket %s at %s%s. %s",
		e.Target.CredsFrom, e.Op, e.Target.Bucket, e.Target.Endpoint, cause, Next(e.Target, false))
}

func (e *NotWritableError) Unwrap() error { return e.Cause }

// Next is the exact MinIO administration the operator does by hand: make
// the bucket (when missing) and give the copy's user a policy on it alone.
// The key names no secret: the user is named by the policy attachment the
// operator runs with their own MinIO admin credentials.
func Next(t Target, makeBucket bool) string {
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetBucketLocation","s3:ListBucket"],"Resource":["arn:aws:s3:::%[1]s"]},{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:DeleteObject"],"Resource":["arn:aws:s3:::%[1]s/*"]}]}`, t.Bucket)
	s := "With MinIO admin credentials (mc alias set minio " + t.Endpoint + " ...): "
	if makeBucket {
		s += "mc mb minio/" + t.Bucket + "; "
	}
	s += "save " + policy + " as " + t.Bucket + ".json; mc admin policy create minio " + t.Bucket + " " + t.Bucket + ".json; " +
		"mc admin policy attach minio " + t.Bucket + " --user <the access key stored at " + t.CredsFrom + ">; then retry."
	return s
}

func randomName() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(errNoRandom)
	}
	return hex.EncodeToString(b)
}
