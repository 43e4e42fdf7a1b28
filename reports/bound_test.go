package reports

import "testing"

func TestParseBound(t *testing.T) {
	for _, tc := range []struct {
		bound, unit string
		want        float64
		ok          bool
	}{
		{"20.0s", "s", 20, true},
		{"20s", "s", 20, true},
		{"5m", "s", 300, true},
		{"1m30s", "s", 90, true},
		{"within 480.0s", "s", 480, true},
		{"within 180.0s of the revert", "s", 180, true},
		{"0 writes", "writes", 0, true},
		{"3 writes", "writes", 3, true},
		{"0", "records", 0, true},
		{"0 corrupted records", "records", 0, true},
		{"≥ 2 Ready", "pods", 2, true},
		{"20", "s", 0, false},
		{"20s", "writes", 0, false},
		{"0 writes", "s", 0, false},
		{"0 writes acknowledged before the backup lost", "writes", 0, false},
		{"declared", "writes", 0, false},
		{"none of: KubernetesAPIDown", "alerts", 0, false},
		{"NaN", "count", 0, false},
		{"", "s", 0, false},
	} {
		got, ok := ParseBound(tc.bound, tc.unit)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseBound(%q, %q) = %v, %v; want %v, %v", tc.bound, tc.unit, got, ok, tc.want, tc.ok)
		}
	}
}
