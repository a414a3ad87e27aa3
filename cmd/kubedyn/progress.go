package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// progress shows one state line per object on a terminal and rewrites them
// in place as states change; elsewhere it shows nothing (the final lines are
// printed plainly by the caller). It is safe for concurrent use.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	keys  []string
	lines map[string]string
	drawn int
}

func newProgress(w io.Writer, tty bool) *progress {
	return &progress{w: w, tty: tty, lines: map[string]string{}}
}

// set changes the state line of key and redraws on a terminal.
func (p *progress) set(key, line string) {
	if !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.lines[key]; !ok {
		p.keys = append(p.keys, key)
	}
	p.lines[key] = line
	p.redraw()
}

// redraw moves the cursor back over the lines drawn and draws them again.
func (p *progress) redraw() {
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", p.drawn)
	}
	for _, k := range p.keys {
		b.WriteString("\x1b[2K")
		b.WriteString(p.lines[k])
		b.WriteByte('\n')
	}
	p.drawn = len(p.keys)
	_, _ = io.WriteString(p.w, b.String())
}

// println prints a final line above the state lines (on a terminal the
// state lines are drawn again below it).
func (p *progress) println(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.tty || p.drawn == 0 {
		_, _ = io.WriteString(p.w, text+"\n")
		return
	}
	fmt.Fprintf(p.w, "\x1b[%dA\x1b[J%s\n", p.drawn, text)
	p.drawn = 0
	p.redraw()
}

// clear erases the state lines so that the final lines take their place.
func (p *progress) clear() {
	if !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn > 0 {
		fmt.Fprintf(p.w, "\x1b[%dA\x1b[J", p.drawn)
	}
	p.drawn = 0
	p.keys = nil
	p.lines = map[string]string{}
}
