package testworld

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// netns is a network namespace of the world's own with only its loopback
// interface up: no route leads out of it. Sockets are made inside it by one
// goroutine locked to a thread that joined it; that thread ends with the
// goroutine (it is never unlocked), so no other goroutine runs there.
type netns struct {
	name string
	ip   string // the ip binary
	reqs chan func()
	quit chan struct{} // closed by close
	done chan struct{} // closed when the thread's goroutine has returned
	once sync.Once
}

// newNetns creates the namespace name and its socket-making thread.
func newNetns(name string) (*netns, error) {
	ipBin, err := exec.LookPath("ip")
	if err != nil {
		return nil, fmt.Errorf("network namespace: the ip command (iproute2) is missing: %w", err)
	}
	if out, err := exec.Command(ipBin, "netns", "add", name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add %s: %v: %s", name, err, out)
	}
	n := &netns{name: name, ip: ipBin, reqs: make(chan func()), quit: make(chan struct{}), done: make(chan struct{})}
	if out, err := n.exec("ip", "link", "set", "lo", "up"); err != nil {
		n.close()
		return nil, fmt.Errorf("ip netns exec %s ip link set lo up: %v: %s", name, err, out)
	}
	started := make(chan error, 1)
	go func() {
		defer close(n.done)
		runtime.LockOSThread() // never unlocked: the thread dies with this goroutine
		f, err := os.Open("/run/netns/" + name)
		if err != nil {
			started <- err
			return
		}
		err = unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
		f.Close()
		if err != nil {
			started <- fmt.Errorf("join network namespace %s: %w", name, err)
			return
		}
		started <- nil
		for {
			select {
			case req := <-n.reqs:
				req()
			case <-n.quit:
				return
			}
		}
	}()
	if err := <-started; err != nil {
		n.close()
		return nil, err
	}
	return n, nil
}

// exec runs a command inside the namespace.
func (n *netns) exec(args ...string) ([]byte, error) {
	return exec.Command(n.ip, append([]string{"netns", "exec", n.name}, args...)...).CombinedOutput()
}

// do runs f on the thread inside the namespace.
func (n *netns) do(f func()) error {
	finished := make(chan struct{})
	select {
	case n.reqs <- func() { f(); close(finished) }:
	case <-n.done:
		return errors.New("network namespace " + n.name + " is closed")
	}
	<-finished
	return nil
}

// listen opens a TCP listener inside the namespace.
func (n *netns) listen(addr string) (ln net.Listener, err error) {
	if derr := n.do(func() { ln, err = net.Listen("tcp", addr) }); derr != nil {
		return nil, derr
	}
	return ln, err
}

// dial connects to addr from inside the namespace.
func (n *netns) dial(addr string) (c net.Conn, err error) {
	if derr := n.do(func() { c, err = net.DialTimeout("tcp", addr, 10*time.Second) }); derr != nil {
		return nil, derr
	}
	return c, err
}

// close ends the thread and deletes the namespace (processes still in it
// keep it until they exit).
func (n *netns) close() {
	n.once.Do(func() {
		close(n.quit)
		_ = exec.Command(n.ip, "netns", "del", n.name).Run()
	})
}

// forward accepts connections on ln until it is closed or ctx ends and
// pipes each to a connection dial opens.
func forward(ctx context.Context, ln net.Listener, dial func() (net.Conn, error)) {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := dial()
				if err != nil {
					return
				}
				defer up.Close()
				copied := make(chan struct{}, 2)
				pipe := func(dst, src net.Conn) {
					_, _ = io.Copy(dst, src)
					if tc, ok := dst.(*net.TCPConn); ok {
						_ = tc.CloseWrite()
					}
					copied <- struct{}{}
				}
				go pipe(up, c)
				go pipe(c, up)
				<-copied
				<-copied
			}()
		}
	}()
}
