package stages

import (
	"testing"
	"time"
)

func TestVerifyWait(t *testing.T) {
	for _, tc := range []struct {
		env     string
		want    time.Duration
		wantErr bool
	}{
		{"", DefaultVerifyWait, false},
		{"30s", 30 * time.Second, false},
		{"0s", 0, false},
		{"soon", 0, true},
		{"-1m", 0, true},
	} {
		t.Setenv(VerifyWaitEnv, tc.env)
		got, err := VerifyWait()
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%s=%q: got %v, %v; want %v (error %v)", VerifyWaitEnv, tc.env, got, err, tc.want, tc.wantErr)
		}
	}
}
