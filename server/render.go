package server

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/reehub/reehub/server/wire"
	"github.com/reehub/reehub/service/studio"
)

// This file renders the Studio family: XML as Studio answered (element names
// of docs/appliances.md, collections with type="array", booleans as true/false,
// <success/>), JSON with the same names when the client asks for it, and
// Studio's error document.

// studioPath reports whether a request path belongs to the Studio family.
func studioPath(p string) bool {
	return p == "/user/show_api_key" || p == "/api/v1/user" || strings.HasPrefix(p, "/api/v1/user/")
}

// wantsJSON reports whether the request prefers application/json over XML.
// Studio answered XML; a client gets JSON only by naming it (before any XML
// type, or without one).
func wantsJSON(ctx context.Context) bool {
	req, err := requestFrom(ctx)
	if err != nil {
		return false
	}
	return acceptsJSON(req.Header.Values("Accept"))
}

func acceptsJSON(accept []string) bool {
	for _, h := range accept {
		for _, part := range strings.Split(h, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || params["q"] == "0" {
				continue
			}
			switch mt {
			case "application/json":
				return true
			case "application/xml", "text/xml", "*/*", "application/*":
				return false
			}
		}
	}
	return false
}

// xmlDoc encodes v as an XML document.
func xmlDoc(v any) (*bytes.Buffer, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(v); err != nil {
		return nil, fmt.Errorf("encode XML: %w", err)
	}
	buf.WriteByte('\n')
	return &buf, nil
}

// jsonOf is a value that marshals as v (the wire.Body of a JSON response).
type jsonOf struct{ v any }

func (j jsonOf) MarshalJSON() ([]byte, error) { return json.Marshal(j.v) }

// reply builds the typed response of a Studio operation: the XML form by
// default, the JSON form on Accept: application/json.
func reply[R any](ctx context.Context, v any, asJSON func(wire.Body) R, asXML func(io.Reader, int64) R) (R, error) {
	if wantsJSON(ctx) {
		return asJSON(wire.Body{Marshaler: jsonOf{v}}), nil
	}
	buf, err := xmlDoc(v)
	if err != nil {
		var zero R
		return zero, err
	}
	return asXML(buf, int64(buf.Len())), nil
}

// decodeStudioBody decodes a Studio request body (XML or JSON) into v.
func decodeStudioBody(raw []byte, body io.Reader, v any) error {
	if raw != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			return fmt.Errorf("request body: %w", err)
		}
		return nil
	}
	if body == nil {
		return errors.New("request body: missing")
	}
	if err := xml.NewDecoder(io.LimitReader(body, maxJSONBytes)).Decode(v); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	return nil
}

// studioError is Studio's error document.
type studioError struct {
	XMLName xml.Name `xml:"error" json:"-"`
	Code    string   `xml:"code" json:"code"`
	Message string   `xml:"message" json:"message"`
}

// studioCode is the Studio error code of err answered with status.
func studioCode(status int, err error) string {
	var se *studio.Error
	if errors.As(err, &se) && se.Code != "" {
		return se.Code
	}
	if status == http.StatusBadRequest {
		// The validator's "query parameter X: value is required but missing".
		if m := missingParam.FindStringSubmatch(err.Error()); m != nil {
			switch m[1] {
			case "appliance_id", "name", "url", "version":
				return "missing_" + m[1]
			}
			return "missing_parameter"
		}
	}
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return "access_denied"
	case http.StatusRequestEntityTooLarge:
		return "invalid_file"
	case http.StatusNotFound:
		return "invalid_request"
	}
	if status >= 500 {
		return "internal_error"
	}
	return "invalid_request"
}

// missingParam matches the validator's message for a missing required parameter.
var missingParam = regexp.MustCompile(`^query parameter ([a-z_]+): .*required`)

// writeStudioError answers a Studio request with Studio's error document.
func writeStudioError(c *gin.Context, status int, err error) {
	msg := apiError(status, err).Message
	body := studioError{Code: studioCode(status, err), Message: msg}
	if acceptsJSON(c.Request.Header.Values("Accept")) {
		// The media type of the Studio operations' JSON content, as their
		// successes answer it (gin's JSON writer would add a charset).
		b, jerr := json.Marshal(body)
		if jerr != nil {
			c.AbortWithStatus(status)
			return
		}
		c.Data(status, "application/json", b)
		c.Abort()
		return
	}
	buf, xerr := xmlDoc(body)
	if xerr != nil {
		c.AbortWithStatus(status)
		return
	}
	c.Data(status, "application/xml", buf.Bytes())
	c.Abort()
}

// studioTime is Studio's time format.
const studioTime = "2006-01-02 15:04:05 UTC"

// arrayType is the type attribute of every Studio collection.
const arrayType = "array"

type xmlSuccess struct {
	XMLName xml.Name `xml:"success" json:"-"`
}

type xmlAPIVersion struct {
	XMLName xml.Name `xml:"version" json:"-"`
	Version string   `xml:",chardata" json:"version"`
}

type xmlQuota struct {
	Available string `xml:"available" json:"available"`
	Used      string `xml:"used" json:"used"`
}

// openIDs renders <openid_urls> with its items, empty or not.
type openIDs []string

func (o openIDs) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(struct {
		URL []string `xml:"openid_url"`
	}{o}, start)
}

func (o openIDs) MarshalJSON() ([]byte, error) { return json.Marshal([]string(nonNilStrings(o))) }

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type xmlAccount struct {
	XMLName     xml.Name `xml:"account" json:"-"`
	Username    string   `xml:"username" json:"username"`
	Displayname string   `xml:"displayname" json:"displayname"`
	Email       string   `xml:"email" json:"email"`
	CreatedAt   string   `xml:"created_at" json:"created_at"`
	OpenIDURLs  openIDs  `xml:"openid_urls" json:"openid_urls"`
	DiskQuota   xmlQuota `xml:"disk_quota" json:"disk_quota"`
}

type xmlTemplate struct {
	ApplianceID int64  `xml:"appliance_id" json:"appliance_id"`
	Name        string `xml:"name" json:"name"`
	Description string `xml:"description" json:"description"`
	Basesystem  string `xml:"basesystem" json:"basesystem"`
}

type xmlTemplateSet struct {
	XMLName     xml.Name      `xml:"template_set" json:"-"`
	Name        string        `xml:"name" json:"name"`
	Description string        `xml:"description" json:"description"`
	Template    []xmlTemplate `xml:"template" json:"template"`
}

type xmlTemplateSets struct {
	XMLName     xml.Name         `xml:"template_sets" json:"-"`
	Type        string           `xml:"type,attr" json:"-"`
	TemplateSet []xmlTemplateSet `xml:"template_set" json:"template_set"`
}

type xmlParent struct {
	ID   int64  `xml:"id,omitempty" json:"id,omitempty"`
	Name string `xml:"name,omitempty" json:"name,omitempty"`
}

type xmlApplianceBuild struct {
	ID                  int64  `xml:"id" json:"id"`
	Version             string `xml:"version" json:"version"`
	ImageType           string `xml:"image_type" json:"image_type"`
	ImageSize           int64  `xml:"image_size" json:"image_size"`
	CompressedImageSize int64  `xml:"compressed_image_size" json:"compressed_image_size"`
	DownloadURL         string `xml:"download_url" json:"download_url"`
}

type xmlApplianceBuilds struct {
	Type  string              `xml:"type,attr" json:"-"`
	Build []xmlApplianceBuild `xml:"build" json:"build"`
}

type xmlAppliance struct {
	XMLName                 xml.Name           `xml:"appliance" json:"-"`
	ID                      int64              `xml:"id" json:"id"`
	Name                    string             `xml:"name" json:"name"`
	Arch                    string             `xml:"arch" json:"arch"`
	Type                    string             `xml:"type" json:"type"`
	LastEdited              string             `xml:"last_edited" json:"last_edited"`
	EstimatedRawSize        string             `xml:"estimated_raw_size" json:"estimated_raw_size"`
	EstimatedCompressedSize string             `xml:"estimated_compressed_size" json:"estimated_compressed_size"`
	EditURL                 string             `xml:"edit_url" json:"edit_url"`
	IconURL                 string             `xml:"icon_url" json:"icon_url"`
	Basesystem              string             `xml:"basesystem" json:"basesystem"`
	UUID                    string             `xml:"uuid" json:"uuid"`
	Parent                  xmlParent          `xml:"parent" json:"parent"`
	Builds                  xmlApplianceBuilds `xml:"builds" json:"builds"`
}

type xmlAppliances struct {
	XMLName   xml.Name       `xml:"appliances" json:"-"`
	Type      string         `xml:"type,attr" json:"-"`
	Appliance []xmlAppliance `xml:"appliance" json:"appliance"`
}

type xmlSolution struct {
	Type    string `xml:"type" json:"type"`
	Package string `xml:"package,omitempty" json:"package,omitempty"`
}

type xmlIssue struct {
	Type     string       `xml:"type" json:"type"`
	Text     string       `xml:"text" json:"text"`
	Solution *xmlSolution `xml:"solution,omitempty" json:"solution,omitempty"`
}

type xmlIssues struct {
	Issue []xmlIssue `xml:"issue" json:"issue"`
}

type xmlStatus struct {
	XMLName xml.Name  `xml:"status" json:"-"`
	State   string    `xml:"state" json:"state"`
	Issues  xmlIssues `xml:"issues" json:"issues"`
}

type xmlRepository struct {
	XMLName    xml.Name `xml:"repository" json:"-"`
	ID         int64    `xml:"id" json:"id"`
	Name       string   `xml:"name,omitempty" json:"name,omitempty"`
	Type       string   `xml:"type,omitempty" json:"type,omitempty"`
	BaseSystem string   `xml:"base_system,omitempty" json:"base_system,omitempty"`
	BaseURL    string   `xml:"base_url,omitempty" json:"base_url,omitempty"`
	Suite      string   `xml:"suite,omitempty" json:"suite,omitempty"`
	Components string   `xml:"components,omitempty" json:"components,omitempty"`
}

type xmlRepositories struct {
	XMLName    xml.Name        `xml:"repositories" json:"-"`
	Type       string          `xml:"type,attr" json:"-"`
	Repository []xmlRepository `xml:"repository" json:"repository"`
}

type xmlPackage struct {
	Name    string `xml:",chardata" json:"name"`
	Version string `xml:"version,attr,omitempty" json:"version,omitempty"`
}

type xmlSoftware struct {
	XMLName     xml.Name     `xml:"software" json:"-"`
	Type        string       `xml:"type,attr" json:"-"`
	ApplianceID int64        `xml:"appliance_id,attr,omitempty" json:"appliance_id,omitempty"`
	Package     []xmlPackage `xml:"package" json:"package"`
	Pattern     []xmlPackage `xml:"pattern" json:"pattern"`
}

type xmlMapPackage struct {
	Name         string `xml:",chardata" json:"name"`
	Version      string `xml:"version,attr,omitempty" json:"version,omitempty"`
	Arch         string `xml:"arch,attr,omitempty" json:"arch,omitempty"`
	Summary      string `xml:"summary,attr,omitempty" json:"summary,omitempty"`
	Checksum     string `xml:"checksum,attr,omitempty" json:"checksum,omitempty"`
	ChecksumType string `xml:"checksum_type,attr,omitempty" json:"checksum_type,omitempty"`
}

type xmlMapSoftware struct {
	Type    string          `xml:"type,attr" json:"-"`
	Package []xmlMapPackage `xml:"package" json:"package"`
	Pattern []xmlPackage    `xml:"pattern" json:"pattern"`
}

type xmlMapRepository struct {
	ID       int64          `xml:"id,attr" json:"id"`
	Name     string         `xml:"name,attr,omitempty" json:"name,omitempty"`
	BaseURL  string         `xml:"base_url,attr,omitempty" json:"base_url,omitempty"`
	Software xmlMapSoftware `xml:"software" json:"software"`
}

type xmlSoftwareMap struct {
	XMLName     xml.Name           `xml:"software_map" json:"-"`
	Type        string             `xml:"type,attr" json:"-"`
	ApplianceID int64              `xml:"appliance_id,attr" json:"appliance_id"`
	Repository  []xmlMapRepository `xml:"repository" json:"repository"`
}

type xmlChangeList struct {
	Package []string `xml:"package" json:"package"`
}

type xmlChangeStatus struct {
	State           string        `xml:"state" json:"state"`
	PackagesAdded   int           `xml:"packages_added" json:"packages_added"`
	PackagesRemoved int           `xml:"packages_removed" json:"packages_removed"`
	Added           xmlChangeList `xml:"added" json:"added"`
	Removed         xmlChangeList `xml:"removed" json:"removed"`
}

type xmlSoftwareChange struct {
	XMLName xml.Name `xml:"success" json:"-"`
	Details struct {
		Status xmlChangeStatus `xml:"status" json:"status"`
	} `xml:"details" json:"details"`
}

type xmlChecksum struct {
	Type  string `xml:"type,attr" json:"type"`
	Value string `xml:",chardata" json:"value"`
}

type xmlFile struct {
	XMLName     xml.Name     `xml:"file" json:"-"`
	ID          int64        `xml:"id" json:"id"`
	Filename    string       `xml:"filename" json:"filename"`
	Path        string       `xml:"path" json:"path"`
	Owner       string       `xml:"owner" json:"owner"`
	Group       string       `xml:"group" json:"group"`
	Permissions string       `xml:"permissions" json:"permissions"`
	Enabled     bool         `xml:"enabled" json:"enabled"`
	Size        int64        `xml:"size" json:"size"`
	Checksum    *xmlChecksum `xml:"checksum,omitempty" json:"checksum,omitempty"`
	DownloadURL string       `xml:"download_url" json:"download_url"`
}

// xmlFileMeta is the body of PUT files/{id}: the fields a client may change.
type xmlFileMeta struct {
	XMLName     xml.Name `xml:"file" json:"-"`
	Filename    *string  `xml:"filename" json:"filename"`
	Path        *string  `xml:"path" json:"path"`
	Owner       *string  `xml:"owner" json:"owner"`
	Group       *string  `xml:"group" json:"group"`
	Permissions *string  `xml:"permissions" json:"permissions"`
	Enabled     *bool    `xml:"enabled" json:"enabled"`
}

type xmlFiles struct {
	XMLName xml.Name  `xml:"files" json:"-"`
	Type    string    `xml:"type,attr" json:"-"`
	File    []xmlFile `xml:"file" json:"file"`
}

type xmlRunningBuild struct {
	XMLName     xml.Name `xml:"running_build" json:"-"`
	ID          int64    `xml:"id" json:"id"`
	State       string   `xml:"state" json:"state"`
	Percent     int      `xml:"percent" json:"percent"`
	TimeElapsed int64    `xml:"time_elapsed" json:"time_elapsed"`
	Message     string   `xml:"message" json:"message"`
}

type xmlRunningBuilds struct {
	XMLName      xml.Name          `xml:"running_builds" json:"-"`
	Type         string            `xml:"type,attr" json:"-"`
	RunningBuild []xmlRunningBuild `xml:"running_build" json:"running_build"`
}

type xmlBuildChecksum struct {
	MD5    string `xml:"md5" json:"md5"`
	SHA1   string `xml:"sha1" json:"sha1"`
	SHA256 string `xml:"sha256" json:"sha256"`
}

type xmlBuild struct {
	XMLName             xml.Name          `xml:"build" json:"-"`
	ID                  int64             `xml:"id" json:"id"`
	Version             string            `xml:"version" json:"version"`
	State               string            `xml:"state" json:"state"`
	Expired             bool              `xml:"expired" json:"expired"`
	ImageType           string            `xml:"image_type" json:"image_type"`
	Checksum            *xmlBuildChecksum `xml:"checksum,omitempty" json:"checksum,omitempty"`
	Size                int64             `xml:"size" json:"size"`
	CompressedImageSize int64             `xml:"compressed_image_size" json:"compressed_image_size"`
	ImageSizeBytes      int64             `xml:"image_size_bytes" json:"image_size_bytes"`
	CompressedSizeBytes int64             `xml:"compressed_size_bytes" json:"compressed_size_bytes"`
	CompletedAt         string            `xml:"completed_at,omitempty" json:"completed_at,omitempty"`
	DownloadURL         string            `xml:"download_url,omitempty" json:"download_url,omitempty"`
	REEURL              string            `xml:"ree_url,omitempty" json:"ree_url,omitempty"`
}

type xmlBuilds struct {
	XMLName xml.Name   `xml:"builds" json:"-"`
	Type    string     `xml:"type,attr" json:"-"`
	Build   []xmlBuild `xml:"build" json:"build"`
}

type xmlRpm struct {
	XMLName      xml.Name     `xml:"rpm" json:"-"`
	ID           int64        `xml:"id" json:"id"`
	Filename     string       `xml:"filename" json:"filename"`
	Size         int64        `xml:"size" json:"size"`
	Archive      bool         `xml:"archive" json:"archive"`
	BaseSystem   string       `xml:"base_system" json:"base_system"`
	Checksum     *xmlChecksum `xml:"checksum,omitempty" json:"checksum,omitempty"`
	Package      string       `xml:"package" json:"package"`
	Version      string       `xml:"version" json:"version"`
	Architecture string       `xml:"architecture" json:"architecture"`
}

type xmlRpms struct {
	XMLName    xml.Name `xml:"rpms" json:"-"`
	Type       string   `xml:"type,attr" json:"-"`
	BaseSystem string   `xml:"base_system,attr,omitempty" json:"base_system,omitempty"`
	Rpm        []xmlRpm `xml:"rpm" json:"rpm"`
}
