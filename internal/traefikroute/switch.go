package traefikroute

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
)

// NotOursError: the file by the route's name is not one migrate-tui wrote
// (no marker), so it is left alone.
type NotOursError struct {
	Dir, File string
}

func (e *NotOursError) Error() string {
	return fmt.Sprintf("%s/%s exists and was not written by migrate-tui (its first line is not the migrate-tui route marker); nothing was changed. Rename or remove that file yourself, then run the cutover again", e.Dir, e.File)
}

// Apply writes the route's file (replacing an earlier one of migrate-tui
// for the same service) and says what it did.
func Apply(ctx context.Context, d Dir, r Route) (string, error) {
	body, err := r.Render()
	if err != nil {
		return "", err
	}
	name := FileName(r.Service)
	old, err := d.Read(ctx, name)
	switch {
	case err == nil && !bytes.HasPrefix(old, []byte(marker(r.Service))):
		return "", &NotOursError{Dir: d.String(), File: name}
	case err == nil && bytes.Equal(old, body):
		return fmt.Sprintf("route %s → %v already in %s/%s", r.Host, r.Backends, d, name), nil
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("reading %s/%s before writing it: %w", d, name, err)
	}
	if err := d.Write(ctx, name, body); err != nil {
		return "", err
	}
	return fmt.Sprintf("route %s → %v written to %s/%s", r.Host, r.Backends, d, name), nil
}

// Remove deletes the service's route file, only if migrate-tui wrote it;
// no file is already the rolled-back state.
func Remove(ctx context.Context, d Dir, service string) (string, error) {
	name := FileName(service)
	old, err := d.Read(ctx, name)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Sprintf("no route file %s/%s (nothing to remove)", d, name), nil
	}
	if err != nil {
		return "", fmt.Errorf("reading %s/%s before removing it: %w", d, name, err)
	}
	if !bytes.HasPrefix(old, []byte(marker(service))) {
		return "", &NotOursError{Dir: d.String(), File: name}
	}
	if err := d.Remove(ctx, name); err != nil {
		return "", err
	}
	return fmt.Sprintf("route file %s/%s removed", d, name), nil
}

// Present reports whether the service's route file (migrate-tui's) is there.
func Present(ctx context.Context, d Dir, service string) (bool, error) {
	old, err := d.Read(ctx, FileName(service))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return bytes.HasPrefix(old, []byte(marker(service))), nil
}
