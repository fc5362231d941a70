package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hrsync/hrsync/internal/bench/workforce"
)

// tenantCheck is the state of the tenant after apply, compared with what
// the data set says it must be.
type tenantCheck struct {
	Users         int // users in the tenant
	ExpectedUsers int // seed users plus joiners
	Missing       int // workers without a user
	Duplicated    int // employee IDs held by more than one user
	WrongEnabled  int // workers whose accountEnabled does not follow their status
	LeaversOn     int // managed users absent from the export still enabled
	Unknown       int // managed users with an employee ID the data set never made
}

// OK says nothing was lost, duplicated or left enabled.
func (c *tenantCheck) OK() bool {
	return c.Users == c.ExpectedUsers && c.Missing == 0 && c.Duplicated == 0 && c.WrongEnabled == 0 &&
		c.LeaversOn == 0 && c.Unknown == 0
}

// String summarises the check.
func (c *tenantCheck) String() string {
	s := fmt.Sprintf("%s users (expected %s)", num(c.Users), num(c.ExpectedUsers))
	for _, p := range []struct {
		n    int
		what string
	}{{c.Missing, "workers missing"}, {c.Duplicated, "employee IDs duplicated"},
		{c.WrongEnabled, "workers with the wrong accountEnabled"}, {c.LeaversOn, "leavers still enabled"},
		{c.Unknown, "unknown employee IDs"}} {
		if p.n > 0 {
			s += fmt.Sprintf(", %s %s", num(p.n), p.what)
		}
	}
	return s
}

// checkTenant pages through the tenant's users over HTTP (id, employeeId
// and accountEnabled only, 999 a page) and compares them with the data set.
// It keeps one small entry per managed user.
func checkTenant(ctx context.Context, base, token string, g *workforce.Generator) (*tenantCheck, error) {
	type seen struct {
		count   uint32
		enabled bool
	}
	byID := make(map[string]seen, g.Summary().Managed+g.Summary().Joiners)
	c := &tenantCheck{ExpectedUsers: g.Summary().UsersAfterApply()}
	next := base + "/v1.0/users?$select=id,employeeId,accountEnabled&$top=999"
	client := &http.Client{Timeout: 2 * time.Minute}
	for next != "" {
		var page struct {
			Value []struct {
				EmployeeID     string `json:"employeeId"`
				AccountEnabled bool   `json:"accountEnabled"`
			} `json:"value"`
			NextLink string `json:"@odata.nextLink"`
		}
		if err := getJSON(ctx, client, next, token, &page); err != nil {
			return nil, fmt.Errorf("check tenant: %w", err)
		}
		for _, u := range page.Value {
			c.Users++
			if u.EmployeeID == "" {
				continue
			}
			key := strings.ToLower(u.EmployeeID)
			s := byID[key]
			s.count++
			s.enabled = s.enabled || u.AccountEnabled
			byID[key] = s
		}
		next = page.NextLink
	}
	for i := range g.N() {
		w := g.Worker(i)
		s, ok := byID[w.ID]
		delete(byID, w.ID)
		switch {
		case !ok:
			c.Missing++
			continue
		case s.count > 1:
			c.Duplicated++
		}
		if s.enabled != (w.Status == workforce.StatusActive) {
			c.WrongEnabled++
		}
	}
	// What is left are the leavers, and anything nobody made.
	leavers := map[string]bool{}
	for j := range g.Summary().Leavers {
		leavers[g.EmployeeID(g.N()+j)] = true
	}
	for id, s := range byID {
		switch {
		case !leavers[id]:
			c.Unknown++
		case s.count > 1:
			c.Duplicated++
		}
		if s.enabled {
			c.LeaversOn++
		}
	}
	return c, nil
}

// getJSON GETs url into v, waiting out 429s (the tenant may be throttled).
func getJSON(ctx context.Context, client *http.Client, url, token string, v any) error {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("GET %s: %w", url, err)
		}
		if resp.StatusCode == http.StatusTooManyRequests && attempt < 100 {
			wait := time.Second
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
				wait = time.Duration(s) * time.Second
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s: %.300s", url, resp.Status, body)
		}
		if err := json.Unmarshal(body, v); err != nil {
			return fmt.Errorf("GET %s: %w", url, err)
		}
		return nil
	}
}
