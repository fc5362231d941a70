package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/hrsync/hrsync/internal/graphsim"
)

// A Workday RaaS report read through the rest source's workday preset,
// mapped by mappings/workday.yaml, planned and applied against the
// emulator; the next plan is empty. The password only travels in the
// Authorization header and never shows in any output.
func TestWorkdayPresetEndToEnd(t *testing.T) {
	payload, err := os.ReadFile(filepath.Join("..", "..", "internal", "source", "rest", "testdata", "workday.json"))
	if err != nil {
		t.Fatal(err)
	}
	const password = "Wd-S3cret-Passw0rd!"
	hr := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "ISU_hrsync" || p != password {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("format") != "json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(payload)
	}))
	defer hr.Close()
	srv, base := startGraph(t, graphsim.Options{})
	dir := t.TempDir()
	copyFile(t, filepath.Join("..", "..", "mappings", "workday.yaml"), filepath.Join(dir, "workday.yaml"))
	copyBytes(t, filepath.Join(dir, "hrsync.yaml"), `source:
  type: rest
  rest:
    preset: workday
    url: `+hr.URL+`/ccx/service/customreport2/acme/ISU_hrsync/hrsync_Workers
    auth:
      type: basic
      username: ISU_hrsync
      password_env: WORKDAY_PASSWORD
mapping: workday.yaml
target:
  type: entra
  auth: access_token
  graph_url: `+base+`
`)
	env := append([]string{"WORKDAY_PASSWORD=" + password}, simEnv...)
	plan := hrsync(t, dir, env, "plan", "-c", "hrsync.yaml", "--out", "plan.json", "--detailed-exitcode", "--log-level", "debug")
	mustCode(t, plan, 2)
	if !strings.Contains(plan.stdout, "+ create 21001") || !strings.Contains(plan.stdout, "page 1") {
		t.Errorf("plan:\n%s", plan.stdout)
	}
	mustCode(t, hrsync(t, dir, env, "apply", "plan.json", "--auto-approve"), 0)
	again := hrsync(t, dir, env, "plan", "-c", "hrsync.yaml", "--detailed-exitcode")
	mustCode(t, again, 0)
	for _, r := range []result{plan, again} {
		if strings.Contains(r.stdout+r.stderr, password) {
			t.Fatal("the Workday password appeared in hrsync's output")
		}
	}
	if n := len(byEmployeeID(srv)); n == 0 {
		t.Fatal("nothing was created")
	}
	// Wrong password: a clear error naming the status, no plan.
	bad := hrsync(t, dir, []string{"WORKDAY_PASSWORD=wrong", simEnv[0]}, "plan", "-c", "hrsync.yaml")
	mustCode(t, bad, 1)
	if !strings.Contains(bad.stderr, "401") {
		t.Errorf("wrong password: %s", bad)
	}
}

// An Excel workbook with a title row, an ID stored as text with leading
// zeros and hire dates stored as date-formatted serials: planned with the
// quick start's mapping, applied, and the next plan is empty.
func TestXLSXSourceEndToEnd(t *testing.T) {
	dir := t.TempDir()
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Workers"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		t.Fatal(err)
	}
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 15}) // d-mmm-yy
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]any{
		{"Contoso workforce export"}, // a title row above the header: header_row says where it is
		{"WorkerID", "WorkerStatus", "FirstName", "LastName", "Department", "JobTitle", "ManagerID", "HireDate", "Company", "CountryCode"},
		{"00123", "Active", "Zoë", "Müller", "Engineering", "Engineer", "", 45352, "Contoso", "DE"},
		{"00124", "Active", "Łukasz", "Nowak", "Engineering", "Engineer", "00123", 45353, "Contoso", "PL"},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.SetCellStyle(sheet, "H3", "H4", dateStyle); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs(filepath.Join(dir, "workers.xlsx")); err != nil {
		t.Fatal(err)
	}
	srv, base := startGraph(t, graphsim.Options{})
	copyFile(t, filepath.Join("..", "..", "mappings", "example.yaml"), filepath.Join(dir, "example.yaml"))
	copyBytes(t, filepath.Join(dir, "hrsync.yaml"), `source:
  type: xlsx
  path: workers.xlsx
  sheet: workers
  header_row: 2                # below the title row
mapping: example.yaml
target:
  type: entra
  auth: access_token
  graph_url: `+base+`
`)
	plan := hrsync(t, dir, simEnv, "plan", "-c", "hrsync.yaml", "--out", "plan.json", "--detailed-exitcode")
	mustCode(t, plan, 2)
	for _, want := range []string{"+ create 00123", `"2024-03-01T00:00:00Z"`, "workers.xlsx[Workers] row 3"} {
		if !strings.Contains(plan.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan.stdout)
		}
	}
	mustCode(t, hrsync(t, dir, simEnv, "apply", "plan.json", "--auto-approve"), 0)
	mustCode(t, hrsync(t, dir, simEnv, "plan", "-c", "hrsync.yaml", "--detailed-exitcode"), 0)
	if got := byEmployeeID(srv); got["00123"] != 1 || got["00124"] != 1 {
		t.Errorf("tenant = %v", got)
	}
}
