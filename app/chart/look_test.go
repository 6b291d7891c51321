package chart

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// TestLook renders each chart in light and dark, plain and hovered. With
// CHART_PNG=1 the captures go to /tmp/charts for review by eye.
func TestLook(t *testing.T) {
	for _, th := range themes {
		c := NewStackedBars()
		c.Unit = "sessions"
		cv := show(t, th.th, c, fyne.NewSize(520, 300))
		c.SetData(append(tags, "SGTSDNS"), dirs, append(tagVal, []float64{0, 0, 0}))
		savePNG(t, cv, "look-stacked-"+th.name)
		test.MoveMouse(cv, seg(t, c, 0, 1).centre())
		savePNG(t, cv, "look-stacked-hover-"+th.name)

		d := NewDonut()
		d.Unit = "sessions"
		cv = show(t, th.th, d, fyne.NewSize(420, 220))
		d.SetData([]string{"https/443", "dns/53", "ssh/22", "ldap/389", "a-service-with-a-long-name/8443", "ntp/123", "smb/445", "rdp/3389", "snmp/161", "syslog/514"},
			[]float64{52000, 21000, 9000, 4000, 3000, 1200, 800, 300, 120, 80})
		savePNG(t, cv, "look-donut-"+th.name)
		test.MoveMouse(cv, slicePoint(d, 1))
		savePNG(t, cv, "look-donut-hover-"+th.name)

		tb := NewTimeBars()
		tb.Unit, tb.OverlayName = "sessions", "new conversations"
		cv = show(t, th.th, tb, fyne.NewSize(560, 200))
		vals := hourly(72)
		tb.SetData(t0, time.Hour, vals)
		over := make([]float64, len(vals))
		for i := range over {
			over[i] = vals[i] * 0.3
		}
		tb.SetOverlay(over)
		test.MoveMouse(cv, tb.cols[30].centre())
		savePNG(t, cv, "look-timebars-hover-"+th.name)
		tb.SetData(t0, 24*time.Hour, hourly(400))
		savePNG(t, cv, "look-timebars-year-"+th.name)

		sl := NewSparkline()
		sl.Unit = "msg/s"
		cv = show(t, th.th, sl, fyne.NewSize(260, 64))
		sl.SetValues(hourly(90)) // a window not yet full
		savePNG(t, cv, "look-sparkline-"+th.name)
	}
}
