package tests

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// keys returns the sorted keys of a JSON object.
func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestFossologyPythonClient sends the requests fossology-python 4.x sends
// in a typical run (fossology_token, Fossology(), create_folder,
// upload_file, list_uploads, schedule_jobs, list_jobs, upload_summary,
// upload_licenses, generate_report, download_report, delete_upload,
// delete_folder), with its headers and body encodings, and checks what its
// constructors need of each answer (PyPI is not reachable here, so the
// library itself cannot run).
func TestFossologyPythonClient(t *testing.T) {
	t.Parallel()
	e := fossology(t)
	const api = "/repo/api/v1"

	// fossology_token(url, user, pw, name, TokenScope.WRITE): a form, today + 10 days.
	form := url.Values{"username": {"admin"}, "password": {e.in.password}, "token_name": {"py-" + randomHex(3)},
		"token_scope": {"write"}, "token_expire": {time.Now().AddDate(0, 0, 10).Format("2006-01-02")}}
	r := e.do(t, "POST", api+"/tokens", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, strings.NewReader(form.Encode()))
	require.Equal(t, 201, r.status, string(r.body))
	var tok map[string]string
	r.json(t, &tok)
	auth := tok["Authorization"]
	h := map[string]string{"Authorization": auth}

	// Fossology(url, token): /info, /health, /users/self, /folders/{rootFolderId}, /folders.
	var info map[string]any
	r = e.do(t, "GET", api+"/info", h, nil)
	require.Equal(t, 200, r.status)
	r.json(t, &info)
	require.Subset(t, keys(info), []string{"contact", "description", "fossology", "license", "name", "security", "version"})
	require.Equal(t, []string{"name", "url"}, keys(info["license"].(map[string]any)), "License(**json) takes exactly these")
	require.Equal(t, []string{"branchName", "buildDate", "commitDate", "commitHash", "version"}, keys(info["fossology"].(map[string]any)))
	var health map[string]any
	r = e.do(t, "GET", api+"/health", h, nil)
	require.Equal(t, 200, r.status)
	r.json(t, &health)
	require.Equal(t, "OK", health["status"])
	for _, part := range []string{"scheduler", "db"} {
		require.Equal(t, map[string]any{"status": "OK"}, health[part], "a real check, exactly {status}")
	}
	var self map[string]any
	r = e.do(t, "GET", api+"/users/self", h, nil)
	require.Equal(t, 200, r.status)
	r.json(t, &self)
	require.Subset(t, keys(self), []string{"description", "id", "name"})
	require.Subset(t, keys(self["agents"].(map[string]any)), []string{"bucket", "copyright_email_author", "ecc", "keyword", "mimetype", "monk", "nomos", "ojo", "package"})
	root := int(self["rootFolderId"].(float64))
	require.Equal(t, 200, e.do(t, "GET", fmt.Sprintf("%s/folders/%d", api, root), h, nil).status)
	require.Equal(t, 200, e.do(t, "GET", api+"/folders", h, nil).status)

	// create_folder(root, name): headers, "None" when there is no description; 201 then GET.
	name := "py-" + randomHex(3)
	r = e.do(t, "POST", api+"/folders", map[string]string{"Authorization": auth, "parentFolder": strconv.Itoa(root), "folderName": name, "folderDescription": "None"}, nil)
	folder := created(t, r, 201)
	var f map[string]any
	r = e.do(t, "GET", fmt.Sprintf("%s/folders/%d", api, folder), h, nil)
	r.json(t, &f)
	require.Equal(t, []string{"description", "id", "name", "parent"}, keys(f))
	require.Equal(t, "", f["description"])

	// upload_file(folder, file=..., description=..., access_level=PUBLIC): headers, and the
	// same fields repeated as form fields with Python's booleans; the file part has no Content-Type.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, kv := range [][2]string{{"folderId", strconv.Itoa(folder)}, {"uploadDescription", "py upload"}, {"public", "public"},
		{"ignoreScm", "False"}, {"applyGlobal", "False"}, {"uploadType", "file"}} {
		require.NoError(t, mw.WriteField(kv[0], kv[1]))
	}
	ph := textproto.MIMEHeader{}
	ph.Set("Content-Disposition", `form-data; name="fileInput"; filename="py-package.zip"`)
	w, err := mw.CreatePart(ph)
	require.NoError(t, err)
	_, err = w.Write(e.archive)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	r = e.do(t, "POST", api+"/uploads", map[string]string{"Authorization": auth, "folderId": strconv.Itoa(folder), "uploadDescription": "py upload",
		"public": "public", "applyGlobal": "false", "ignoreScm": "false", "uploadType": "file", "Content-Type": mw.FormDataContentType()}, &body)
	up := created(t, r, 201)
	// detail_upload: sleeps Retry-After (an int) on 503, at most 10 times.
	var upload map[string]any
	for i := 0; ; i++ {
		r = e.do(t, "GET", fmt.Sprintf("%s/uploads/%d", api, up), h, nil)
		if r.status == 200 {
			break
		}
		require.Equal(t, 503, r.status, string(r.body))
		wait, err := strconv.Atoi(r.header.Get("Retry-After"))
		require.NoError(t, err)
		var msg map[string]any
		r.json(t, &msg)
		require.NotEmpty(t, msg["message"])
		require.Less(t, i, 10, "fossology-python gives up after 10 tries")
		time.Sleep(time.Duration(wait) * time.Second)
	}
	r.json(t, &upload)
	require.Subset(t, keys(upload), []string{"description", "folderid", "foldername", "hash", "id", "uploaddate", "uploadname"})
	require.Equal(t, []string{"md5", "sha1", "sha256", "size"}, keys(upload["hash"].(map[string]any)))
	require.Equal(t, "py-package.zip", upload["uploadname"])

	// list_uploads(folder=f): query and headers.
	r = e.do(t, "GET", fmt.Sprintf("%s/uploads?folderId=%d&recursive=false&limit=100&page=1", api, folder), map[string]string{"Authorization": auth, "limit": "100", "page": "1"}, nil)
	require.Equal(t, 200, r.status)
	_, err = strconv.Atoi(r.header.Get("X-Total-Pages"))
	require.NoError(t, err)

	// schedule_jobs(folder, upload, spec): json.dumps of the spec, then GET /jobs/{id}.
	spec := `{"analysis": {"copyright_email_author": true, "monk": true, "nomos": true, "ojo": true}, "decider": {"nomos_monk": true, "ojo_decider": true}}`
	r = e.do(t, "POST", api+"/jobs", map[string]string{"Authorization": auth, "folderId": strconv.Itoa(folder), "uploadId": strconv.Itoa(up), "Content-Type": "application/json"}, strings.NewReader(spec))
	job := created(t, r, 201)
	e.waitJob(t, auth, job)
	// list_jobs(upload=u): ?upload= with limit and page headers; X-Total-Pages read case-insensitively.
	r = e.do(t, "GET", fmt.Sprintf("%s/jobs?upload=%d", api, up), map[string]string{"Authorization": auth, "limit": "100", "page": "1"}, nil)
	require.Equal(t, 200, r.status)
	var jobs []map[string]any
	r.json(t, &jobs)
	require.NotEmpty(t, jobs)
	for _, j := range jobs {
		require.Contains(t, []any{"Completed", "Failed", "Queued", "Processing"}, j["status"])
	}
	require.NotEmpty(t, r.header.Get("X-TOTAL-PAGES"))

	// upload_summary(u).
	var summary map[string]any
	r = e.do(t, "GET", fmt.Sprintf("%s/uploads/%d/summary", api, up), h, nil)
	require.Equal(t, 200, r.status)
	r.json(t, &summary)
	require.Subset(t, keys(summary), []string{"clearingStatus", "copyrightCount", "filesCleared", "filesToBeCleared", "id", "mainLicense",
		"totalConcludedLicenses", "totalLicenses", "uniqueConcludedLicenses", "uniqueLicenses", "uploadName"})

	// upload_licenses(u, agent="nomos,monk,ojo"): requests encodes the commas; booleans as Python spells them.
	r = e.do(t, "GET", fmt.Sprintf("%s/uploads/%d/licenses?containers=False&license=True&copyright=False&agent=nomos%%2Cmonk%%2Cojo", api, up), h, nil)
	require.Equal(t, 200, r.status, string(r.body))
	var lic []map[string]any
	r.json(t, &lic)
	require.NotEmpty(t, lic)
	for _, l := range lic {
		require.Contains(t, l["findings"].(map[string]any), "scanner")
	}

	// generate_report(u, ReportFormat.SPDX2) and DEP5; download_report(id).
	for _, format := range []string{"spdx2", "dep5"} {
		r = e.do(t, "GET", api+"/report", map[string]string{"Authorization": auth, "uploadId": strconv.Itoa(up), "reportFormat": format}, nil)
		require.Equal(t, 201, r.status, string(r.body))
		var msg map[string]any
		r.json(t, &msg)
		id := regexp.MustCompile(`[0-9]+$`).FindString(msg["message"].(string))
		require.NotEmpty(t, id)
		for i := 0; ; i++ {
			r = e.do(t, "GET", api+"/report/"+id, h, nil)
			if r.status == 200 {
				break
			}
			require.Equal(t, 503, r.status, string(r.body))
			wait, err := strconv.Atoi(r.header.Get("Retry-After"))
			require.NoError(t, err)
			require.Less(t, i, 10)
			time.Sleep(time.Duration(min(wait, 1)) * time.Second)
		}
		m := regexp.MustCompile(`^attachment; filename=["']?(.+?)["']?$`).FindStringSubmatch(r.header.Get("Content-Disposition"))
		require.NotNil(t, m, r.header.Get("Content-Disposition"))
		require.NotEmpty(t, r.body)
	}

	require.Equal(t, 202, e.do(t, "DELETE", fmt.Sprintf("%s/uploads/%d", api, up), h, nil).status)
	require.Equal(t, 202, e.do(t, "DELETE", fmt.Sprintf("%s/folders/%d", api, folder), h, nil).status)
}
