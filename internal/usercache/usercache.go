// Package usercache keeps, between plans, the users a directory read
// returned and the state from which the directory tells what changed since
// (Entra's deltaLink), so the next plan reads only the changes. The cache
// is an optimisation, never an authority: a cache of another tenant,
// endpoint or attribute set, or one that is damaged, is refused and the
// caller reads every user again.
//
// A cache file holds no secret: object ids, the attributes the mapping
// reads and the delta state (an opaque token that only works with
// credentials). It is written atomically with mode 0600 in a folder of mode
// 0700.
//
// Encoding (little-endian varints throughout):
//
//	"hrsync-users\x00v1\n"
//	uvarint len, header JSON (see header)
//	per user: id, manager, masteredIn, flags byte, uvarint n + n licenses,
//	          one value per attribute slot (header.Attrs order)
//	crc32 (Castagnoli) of everything before it, 4 bytes
//
// A string is a uvarint r: 0 is a literal (uvarint length, bytes) which is
// then appended to its column's dictionary while that holds fewer than
// dictLimit values; r > 0 is entry r-1 of the column's dictionary. Repeated
// values (departments, companies, countries, the manager ids of a team)
// take a byte or two on disk, and one shared string in memory.
package usercache

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
)

const magic = "hrsync-users\x00v1\n"

// dictLimit bounds each column's dictionary: low-cardinality columns are
// shared whole, high-cardinality ones (ids, names) stop adding quickly.
const dictLimit = 4096

// ErrMismatch marks a cache made for another tenant, endpoint or query.
var ErrMismatch = errors.New("the cache was made for another tenant, endpoint or attribute set")

// ErrDamaged marks a cache file that is truncated, corrupt or of an
// unknown format.
var ErrDamaged = errors.New("the cache file is damaged")

// Key identifies what a cache is valid for.
type Key struct {
	// Tenant and Endpoint identify the directory (plan.Target).
	Tenant, Endpoint string
	// Query is the read's fingerprint: the attributes, the manager and
	// the licenses it reads (see Fingerprint).
	Query string
}

// Fingerprint is a Key.Query for a read of attrs (in any order), with the
// manager and the licenses when asked.
func Fingerprint(attrs []string, manager, licenses bool) string {
	a := slices.Clone(attrs)
	slices.Sort(a)
	a = slices.Compact(a)
	return fmt.Sprintf("attrs=%s;manager=%t;licenses=%t", strings.Join(a, ","), manager, licenses)
}

// File is the cache file for k in dir: one per tenant, endpoint and query.
func File(dir string, k Key) string {
	h := sha256.Sum256([]byte(k.Tenant + "\x00" + k.Endpoint + "\x00" + k.Query))
	return filepath.Join(dir, "users-"+hex.EncodeToString(h[:8])+".cache")
}

// Cache is the users of a read and the state to continue from.
type Cache struct {
	Key
	// State is the directory's state after the read (Entra: deltaLink).
	State string
	// Saved is when the cache was written.
	Saved time.Time
	Users []identity.User
	// Gone are the ids of users the changes removed that were in the
	// deleted items when the cache was written (a restore the changes
	// leave out is found by them).
	Gone []string
}

// header is the JSON header of a cache file.
type header struct {
	Version  int       `json:"version"`
	Tenant   string    `json:"tenant"`
	Endpoint string    `json:"endpoint"`
	Query    string    `json:"query"`
	State    string    `json:"state"`
	Saved    time.Time `json:"saved"`
	Attrs    []string  `json:"attrs"`
	Users    int       `json:"users"`
	Gone     []string  `json:"gone,omitempty"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Save writes c to path atomically (a temporary file renamed over it),
// mode 0600, creating the folder with mode 0700. It does not wait for the
// disk (see the checksum).
func Save(path string, c *Cache) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("user cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".users-*.tmp")
	if err != nil {
		return fmt.Errorf("user cache: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("user cache: %w", err)
	}
	crc := crc32.New(castagnoli)
	w := bufio.NewWriterSize(io.MultiWriter(tmp, crc), 1<<20)
	if err := encode(w, c); err != nil {
		return fmt.Errorf("user cache %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("user cache %s: %w", path, err)
	}
	if _, err := tmp.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32())); err != nil {
		return fmt.Errorf("user cache %s: %w", path, err)
	}
	// No fsync: a cache a crash tears fails its checksum and is read as
	// damaged, which costs a full read, never a wrong one.
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("user cache %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("user cache: %w", err)
	}
	return nil
}

// attrNames lists the attributes the users hold, sorted: the slots.
func attrNames(users []identity.User) []string {
	set := map[string]bool{}
	for i := range users {
		for k := range users[i].Attrs.All() {
			set[k] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// fixed columns before the attribute slots.
const (
	colID = iota
	colManager
	colMastered
	colLicense
	fixedCols
)

type encoder struct {
	w    *bufio.Writer
	dict []map[string]uint64
	// hits and misses count look-ups in a full dictionary; a column that
	// seldom repeats a value (ids, names) stops looking (literals only).
	hits, misses []int
	buf          []byte
}

func (e *encoder) uvarint(v uint64) {
	e.buf = binary.AppendUvarint(e.buf[:0], v)
	_, _ = e.w.Write(e.buf)
}

func (e *encoder) str(col int, s string) {
	d := e.dict[col]
	full := len(d) >= dictLimit
	if !full || e.misses[col] < 1024 || e.hits[col]*4 > e.misses[col] {
		if r, ok := d[s]; ok {
			if full {
				e.hits[col]++
			}
			e.uvarint(r)
			return
		}
		if full {
			e.misses[col]++
		}
	}
	e.uvarint(0)
	e.uvarint(uint64(len(s)))
	_, _ = e.w.WriteString(s)
	if !full {
		d[s] = uint64(len(d) + 1)
	}
}

func encode(w *bufio.Writer, c *Cache) error {
	attrs := attrNames(c.Users)
	h, err := json.Marshal(header{Version: 1, Tenant: c.Tenant, Endpoint: c.Endpoint, Query: c.Query, State: c.State,
		Saved: c.Saved, Attrs: attrs, Users: len(c.Users), Gone: c.Gone})
	if err != nil {
		return err
	}
	e := &encoder{w: w, dict: make([]map[string]uint64, fixedCols+len(attrs)),
		hits: make([]int, fixedCols+len(attrs)), misses: make([]int, fixedCols+len(attrs))}
	for i := range e.dict {
		e.dict[i] = map[string]uint64{}
	}
	_, _ = w.WriteString(magic)
	e.uvarint(uint64(len(h)))
	_, _ = w.Write(h)
	for i := range c.Users {
		u := &c.Users[i]
		e.str(colID, u.ID)
		e.str(colManager, u.ManagerID)
		e.str(colMastered, u.MasteredIn)
		var flags byte
		if u.SessionsStale {
			flags |= 1
		}
		_ = w.WriteByte(flags)
		e.uvarint(uint64(len(u.Licenses)))
		for _, l := range u.Licenses {
			e.str(colLicense, l)
		}
		for j, a := range attrs {
			e.str(fixedCols+j, u.Attrs.Get(a))
		}
	}
	return nil
}

// Load reads the cache at path if it was made for k. A missing file is an
// error matching fs.ErrNotExist; one for another key ErrMismatch; a
// damaged one ErrDamaged.
func Load(path string, k Key) (*Cache, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("user cache: %w", err)
	}
	if len(data) < len(magic)+4 || string(data[:len(magic)]) != magic {
		return nil, fmt.Errorf("user cache %s: %w (not a cache of this version)", path, ErrDamaged)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, fmt.Errorf("user cache %s: %w (checksum mismatch)", path, ErrDamaged)
	}
	c, err := decode(body[len(magic):], k)
	if err != nil {
		return nil, fmt.Errorf("user cache %s: %w", path, err)
	}
	return c, nil
}

type decoder struct {
	data []byte
	dict [][]string
	err  error
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.data)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.data = d.data[n:]
	return v
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = fmt.Errorf("%w (truncated or corrupt)", ErrDamaged)
	}
	d.data = nil
}

func (d *decoder) str(col int) string {
	r := d.uvarint()
	if d.err != nil {
		return ""
	}
	if r > 0 {
		if r > uint64(len(d.dict[col])) {
			d.fail()
			return ""
		}
		return d.dict[col][r-1]
	}
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.data)) {
		d.fail()
		return ""
	}
	s := string(d.data[:n])
	d.data = d.data[n:]
	if len(d.dict[col]) < dictLimit {
		d.dict[col] = append(d.dict[col], s)
	}
	return s
}

func decode(data []byte, k Key) (*Cache, error) {
	d := &decoder{data: data}
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.data)) {
		return nil, fmt.Errorf("%w (header)", ErrDamaged)
	}
	var h header
	if err := json.Unmarshal(d.data[:n], &h); err != nil || h.Version != 1 {
		return nil, fmt.Errorf("%w (header)", ErrDamaged)
	}
	d.data = d.data[n:]
	if h.Tenant != k.Tenant || h.Endpoint != k.Endpoint || h.Query != k.Query {
		return nil, fmt.Errorf("%w (it holds tenant %q at %s, %s)", ErrMismatch, h.Tenant, h.Endpoint, h.Query)
	}
	if h.Users < 0 || h.Users > len(d.data) {
		return nil, fmt.Errorf("%w (user count)", ErrDamaged)
	}
	c := &Cache{Key: k, State: h.State, Saved: h.Saved, Users: make([]identity.User, h.Users), Gone: h.Gone}
	d.dict = make([][]string, fixedCols+len(h.Attrs))
	layout := identity.NewLayout(h.Attrs) // the users' attributes share its slots
	vals := make([]string, len(h.Attrs))  // one user's, reused
	for i := range c.Users {
		u := &c.Users[i]
		u.ID = d.str(colID)
		u.ManagerID = d.str(colManager)
		u.MasteredIn = d.str(colMastered)
		if len(d.data) == 0 {
			d.fail()
			break
		}
		u.SessionsStale = d.data[0]&1 != 0
		d.data = d.data[1:]
		nl := d.uvarint()
		if nl > uint64(len(d.data)) {
			d.fail()
			break
		}
		if nl > 0 {
			u.Licenses = make([]string, nl)
			for j := range u.Licenses {
				u.Licenses[j] = d.str(colLicense)
			}
		}
		for j := range vals {
			vals[j] = d.str(fixedCols + j)
		}
		u.Attrs = identity.PackNamed(layout, h.Attrs, vals)
		if d.err != nil {
			break
		}
		if u.ID == "" {
			d.fail()
			break
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.data) != 0 {
		return nil, fmt.Errorf("%w (trailing data)", ErrDamaged)
	}
	return c, nil
}

// Remove deletes the cache at path, if there is one.
func Remove(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("user cache: %w", err)
	}
	return nil
}
