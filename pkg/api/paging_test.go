package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

func TestParsePage(t *testing.T) {
	ok := []struct {
		query         string
		page, perPage int
	}{
		{"", 1, 20},
		{"page=3", 3, 20},
		{"per_page=1000", 1, 1000},
		{"per_page=1", 1, 1},
		{"page=2&per_page=5", 2, 5},
		{"page=&per_page=", 1, 20},
	}
	for _, c := range ok {
		page, perPage, err := ParsePage(httptest.NewRequest("GET", "/x?"+c.query, nil))
		if err != nil || page != c.page || perPage != c.perPage {
			t.Errorf("%q: got %d, %d, %v; want %d, %d", c.query, page, perPage, err, c.page, c.perPage)
		}
	}
	bad := []string{"page=0", "page=-1", "page=x", "page=1.5", "per_page=0", "per_page=1001",
		"per_page=abc", "page=99999999999999999999", "page=1073741825"}
	for _, q := range bad {
		_, _, err := ParsePage(httptest.NewRequest("GET", "/x?"+q, nil))
		if !errors.Is(err, ErrBadRequest) {
			t.Errorf("%q: err = %v, want ErrBadRequest", q, err)
			continue
		}
		if status, _, _ := classify(err); status != http.StatusBadRequest {
			t.Errorf("%q: status %d", q, status)
		}
	}
}

func TestPaginate(t *testing.T) {
	items := []int{1, 2, 3, 4, 5}
	cases := []struct {
		page, perPage int
		want          []int
	}{
		{1, 2, []int{1, 2}},
		{2, 2, []int{3, 4}},
		{3, 2, []int{5}}, // last, partial page
		{4, 2, []int{}},  // past the end
		{1, 5, []int{1, 2, 3, 4, 5}},
		{2, 5, []int{}},
		{1, 1000, []int{1, 2, 3, 4, 5}},
		{1 << 30, 1000, []int{}},
		{0, 0, []int{1, 2, 3, 4, 5}}, // clamped to page 1, 20 per page
	}
	for _, c := range cases {
		got, info := Paginate(items, c.page, c.perPage)
		if got == nil {
			t.Fatalf("page %d/%d: nil slice (encodes as null)", c.page, c.perPage)
		}
		if !equalInts(got, c.want) {
			t.Errorf("page %d/%d: %v, want %v", c.page, c.perPage, got, c.want)
		}
		if info.Count != len(c.want) || info.TotalCount != 5 || info.Page < 1 || info.PerPage < 1 {
			t.Errorf("page %d/%d: info %+v", c.page, c.perPage, info)
		}
	}
	got, info := Paginate[string](nil, 1, 20)
	if got == nil || len(got) != 0 || info.TotalCount != 0 {
		t.Fatalf("empty list: %v %+v", got, info)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func FuzzParsePage(f *testing.F) {
	for _, s := range [][2]string{{"", ""}, {"1", "20"}, {"0", "1000"}, {"-5", "1001"}, {"9999999999999999999", "x"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, page, perPage string) {
		r := httptest.NewRequest("GET", "/x?page="+url.QueryEscape(page)+"&per_page="+url.QueryEscape(perPage), nil)
		p, pp, err := ParsePage(r)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadRequest", err)
			}
			return
		}
		if p < 1 || p > maxPage || pp < 1 || pp > MaxPerPage {
			t.Fatalf("ParsePage(%q, %q) = %d, %d out of bounds", page, perPage, p, pp)
		}
		items := make([]int, 50)
		got, info := Paginate(items, p, pp)
		if len(got) > pp || info.Count != len(got) || info.TotalCount != 50 {
			t.Fatalf("Paginate(%d, %d) = %d items, info %+v", p, pp, len(got), info)
		}
	})
}
