package localpg

import (
	"context"
	"testing"
	"time"
)

func TestZZMeasure(t *testing.T) {
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		c, err := StartTemp(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		c.StopServer()
		t2 := time.Now()
		c.StartServer(ctx)
		t3 := time.Now()
		c.Stop()
		t.Logf("StartTemp %v  StopServer %v  StartServer %v  Stop %v", t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), time.Since(t3))
	}
}
