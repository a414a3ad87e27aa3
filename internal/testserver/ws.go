package testserver

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// A minimal RFC 6455 WebSocket server side: enough for the channel
// protocols of exec, attach and portforward.

const (
	wsContinuation = 0x0
	wsText         = 0x1
	wsBinary       = 0x2
	wsClose        = 0x8
	wsPing         = 0x9
	wsPong         = 0xA

	wsMaxMessage = 16 << 20
)

var errWSClosed = errors.New("websocket closed")

type wsConn struct {
	conn net.Conn
	br   *bufio.Reader
	wmu  sync.Mutex
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// wsUpgrade completes the handshake with the first of the server's
// protocols the client offers ("" accepts a client that offers none). It
// writes an error Status and returns nil when the request cannot be
// upgraded.
func wsUpgrade(w http.ResponseWriter, r *http.Request, protocols []string) (*wsConn, string) {
	if !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		writeStatus(w, errBadRequest("Upgrade request required"))
		return nil, ""
	}
	key := r.Header.Get("Sec-WebSocket-Key")
	if key == "" || r.Header.Get("Sec-WebSocket-Version") != "13" {
		writeStatus(w, errBadRequest("websocket: bad handshake"))
		return nil, ""
	}
	var offered []string
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				offered = append(offered, p)
			}
		}
	}
	chosen, ok := "", false
	for _, p := range protocols {
		if p == "" && len(offered) == 0 {
			ok = true
			break
		}
		if p != "" && slices.Contains(offered, p) {
			chosen, ok = p, true
			break
		}
	}
	if !ok {
		writeStatus(w, errBadRequest(fmt.Sprintf("unable to upgrade: no common protocol among %q (supported: %q)", offered, protocols)))
		return nil, ""
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		writeStatus(w, errForCode(http.StatusInternalServerError, 0))
		return nil, ""
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return nil, ""
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(sum[:]) + "\r\n"
	if chosen != "" {
		resp += "Sec-WebSocket-Protocol: " + chosen + "\r\n"
	}
	resp += "\r\n"
	if _, err := conn.Write([]byte(resp)); err != nil {
		_ = conn.Close()
		return nil, ""
	}
	return &wsConn{conn: conn, br: brw.Reader}, chosen
}

// readMessage returns the next data message, answering pings and closes.
func (c *wsConn) readMessage() (byte, []byte, error) {
	var msg []byte
	var op byte
	for {
		fin, opcode, payload, err := c.readFrame()
		if err != nil {
			return 0, nil, err
		}
		switch opcode {
		case wsPing:
			if err := c.writeFrame(wsPong, payload); err != nil {
				return 0, nil, err
			}
			continue
		case wsPong:
			continue
		case wsClose:
			_ = c.writeFrame(wsClose, payload)
			return 0, nil, errWSClosed
		case wsContinuation:
			if op == 0 {
				return 0, nil, errors.New("websocket: unexpected continuation frame")
			}
		default:
			op = opcode
		}
		msg = append(msg, payload...)
		if len(msg) > wsMaxMessage {
			return 0, nil, errors.New("websocket: message too large")
		}
		if fin {
			return op, msg, nil
		}
	}
}

func (c *wsConn) readFrame() (bool, byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return false, 0, nil, err
	}
	fin, opcode := h[0]&0x80 != 0, h[0]&0x0f
	masked := h[1]&0x80 != 0
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return false, 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return false, 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > wsMaxMessage {
		return false, 0, nil, errors.New("websocket: frame too large")
	}
	if !masked {
		return false, 0, nil, errors.New("websocket: client frames must be masked")
	}
	var mask [4]byte
	if _, err := io.ReadFull(c.br, mask[:]); err != nil {
		return false, 0, nil, err
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		return false, 0, nil, err
	}
	for i := range payload {
		payload[i] ^= mask[i%4]
	}
	return fin, opcode, payload, nil
}

// writeFrame sends one unmasked frame; it is safe for concurrent use.
func (c *wsConn) writeFrame(op byte, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	hdr := []byte{0x80 | op}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, byte(n))
	case n <= 0xffff:
		hdr = append(hdr, 126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, 127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	if _, err := c.conn.Write(append(hdr, payload...)); err != nil {
		return err
	}
	return nil
}

// closeNormal sends a normal close frame and closes the connection.
func (c *wsConn) closeNormal() {
	_ = c.writeFrame(wsClose, []byte{0x03, 0xe8})
	_ = c.conn.Close()
}
