package course

import (
	"fmt"
	"net/url"
	"strings"
)

// DefaultPlatforms are the verified hosts per source type; URL materials
// elsewhere are accepted with a warning. Only video and web are consulted.
var DefaultPlatforms = map[SourceType][]string{
	SourceVideo: {"youtube.com", "youtu.be"},
	SourceWeb:   {"wikipedia.org", "github.com", "docs.python.org", "developer.mozilla.org", "realpython.com"},
}

// PlatformWarnings returns the warning for a URL whose host is not on the
// list of its source type (exact host or a subdomain), or none.
func PlatformWarnings(platforms map[SourceType][]string, sourceType SourceType, rawURL string) []string {
	if sourceType != SourceVideo && sourceType != SourceWeb {
		return []string{}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return []string{}
	}
	host := strings.ToLower(u.Hostname())
	if HostIn(host, platforms[sourceType]) {
		return []string{}
	}
	return []string{fmt.Sprintf("Platform '%s' is not in the verified list for '%s'. Processing may fail or produce poor results.", host, sourceType)}
}

// HostIn reports whether host is one of domains or a subdomain of one,
// case-insensitively: the platform-list match of warnings and of the video
// downloader alike.
func HostIn(host string, domains []string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, d := range domains {
		d = strings.ToLower(d)
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// ValidSourceURL reports whether s is an absolute http(s) URL of at most
// 2000 characters.
func ValidSourceURL(s string) bool {
	if len(s) > 2000 {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
