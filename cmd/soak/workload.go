package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// workload is the data the traffic runs over, created through the API.
type workload struct {
	hot, cold  []string // slugs
	businesses []string // ids
	repeated   []string // destinations asked for again and again
}

var client = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Transport:     &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 512},
}

// call sends a JSON API request and decodes the answer into out (if any).
func call(method, url string, body, out any) (int, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, r)
	req.Header.Set("Authorization", "Bearer "+soakToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		json.NewDecoder(resp.Body).Decode(out)
	} else {
		io.Copy(io.Discard, resp.Body)
	}
	return resp.StatusCode, nil
}

func prepare(_ context.Context, base, _ string) (*workload, error) {
	w := &workload{}
	for i := range 20 {
		var b struct{ ID string }
		body := map[string]any{"name": fmt.Sprintf("Soak Shop %d", i), "site_url": fmt.Sprintf("https://shop%d.soak.example.com/", i), "city": "Testville"}
		if status, err := call("POST", base+"/api/v1/businesses", body, &b); err != nil || status != 201 {
			return nil, fmt.Errorf("create business: %d %v", status, err)
		}
		w.businesses = append(w.businesses, b.ID)
	}
	for i := range 505 {
		var l struct{ Slug string }
		dest := fmt.Sprintf("https://soak.example.com/landing/%d", i)
		if status, err := call("POST", base+"/api/v1/links", map[string]any{"destination_url": dest}, &l); err != nil || status != 201 {
			return nil, fmt.Errorf("create link: %d %v", status, err)
		}
		if i < 5 {
			w.hot = append(w.hot, l.Slug)
		} else {
			w.cold = append(w.cold, l.Slug)
		}
	}
	for i := range 50 {
		w.repeated = append(w.repeated, fmt.Sprintf("https://repeat.soak.example.com/p/%d", i))
	}
	return w, nil
}

// results counts outcomes by operation and status.
type results struct {
	mu           sync.Mutex
	byOp         map[string]map[int]int
	clicksServed int64
	slugs        map[string]string // repeated destination → slug first seen
	splitSlugs   int               // a repeated destination answered with a second slug
	errors       int               // transport errors
}

func (r *results) add(op string, status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byOp[op] == nil {
		r.byOp[op] = map[int]int{}
	}
	r.byOp[op][status]++
	if op == "redirect-hot" || op == "redirect-cold" {
		if status == http.StatusFound {
			r.clicksServed++
		}
	}
}

func (r *results) sawSlug(dest, slug string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if first, ok := r.slugs[dest]; ok && first != slug {
		r.splitSlugs++
	} else if !ok {
		r.slugs[dest] = slug
	}
}

// drive sends mixed traffic from opts.Workers clients until the time is up.
func drive(_ context.Context, w *workload, instances []*instance, opts options) *results {
	res := &results{byOp: map[string]map[int]int{}, slugs: map[string]string{}}
	deadline := time.Now().Add(opts.Duration)
	var wg sync.WaitGroup
	for n := range opts.Workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(n), 42))
			for i := 0; time.Now().Before(deadline); i++ {
				base := instances[rng.IntN(len(instances))].base
				op, status, err := step(rng, w, base, res, n, i)
				if err != nil {
					res.mu.Lock()
					res.errors++
					res.mu.Unlock()
					continue
				}
				res.add(op, status)
			}
		})
	}
	wg.Wait()
	return res
}

// step performs one randomly chosen operation.
func step(rng *rand.Rand, w *workload, base string, res *results, worker, i int) (string, int, error) {
	switch p := rng.IntN(100); {
	case p < 50:
		return op("redirect-hot")(send("GET", base+"/"+w.hot[rng.IntN(len(w.hot))]))
	case p < 65:
		return op("redirect-cold")(send("GET", base+"/"+w.cold[rng.IntN(len(w.cold))]))
	case p < 70:
		return op("redirect-head")(send("HEAD", base+"/"+w.hot[rng.IntN(len(w.hot))]))
	case p < 80:
		dest := w.repeated[rng.IntN(len(w.repeated))]
		var l struct{ Slug string }
		status, err := call("POST", base+"/api/v1/links", map[string]any{"destination_url": dest}, &l)
		if err == nil && l.Slug != "" {
			res.sawSlug(dest, l.Slug)
		}
		return "create-repeated", status, err
	case p < 85:
		dest := fmt.Sprintf("https://new.soak.example.com/w%d/%d", worker, i)
		status, err := call("POST", base+"/api/v1/links", map[string]any{"destination_url": dest}, nil)
		return "create-new", status, err
	default:
		variant := []string{"friendly", "professional", "urgent"}[rng.IntN(3)]
		body := map[string]any{"business_id": w.businesses[rng.IntN(len(w.businesses))], "variant": variant}
		status, err := call("POST", base+"/api/v1/campaigns/preview-sms", body, nil)
		return "preview-sms", status, err
	}
}

// op names the outcome of a send.
func op(name string) func(int, error) (string, int, error) {
	return func(status int, err error) (string, int, error) { return name, status, err }
}

func send(method, url string) (int, error) {
	req, _ := http.NewRequest(method, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
