// Package safe runs drill's own goroutines (samplers, the RPO writer, a
// drain, the snapshot scheduler) so that a panic in one of them does not
// kill the process with a fault still in place: it is recovered and handed
// to the handler the drill put in the goroutine's context, which stops the
// drill and lets its revert run.
//
// A panic anywhere else is not caught here: the fault's journal and `drill
// recover` handle a process that died.
package safe

import (
	"context"
	"fmt"
	"runtime/debug"
)

// Panic is a recovered panic: where it happened, its value and its stack.
type Panic struct {
	Where string
	Value any
	Stack []byte
}

func (p *Panic) Error() string {
	return fmt.Sprintf("panic in %s: %v", p.Where, p.Value)
}

type handlerKey struct{}

// WithHandler returns a context whose goroutines started with Go hand their
// panics to h.
func WithHandler(ctx context.Context, h func(*Panic)) context.Context {
	return context.WithValue(ctx, handlerKey{}, h)
}

// Go runs fn in a goroutine. A panic in fn is recovered and given to the
// context's handler (WithHandler); without a handler it is re-raised, as if
// Go had not been used.
func Go(ctx context.Context, where string, fn func()) {
	go func() {
		defer Recover(ctx, where)
		fn()
	}()
}

// Recover, deferred at the top of a goroutine, hands a panic to the
// context's handler; without a handler it re-raises it.
func Recover(ctx context.Context, where string) {
	v := recover()
	if v == nil {
		return
	}
	h, _ := ctx.Value(handlerKey{}).(func(*Panic))
	if h == nil {
		panic(v)
	}
	h(&Panic{Where: where, Value: v, Stack: debug.Stack()})
}
