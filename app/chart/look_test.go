package chart

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
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

// TestLookOverview renders the four charts together, roughly as the
// Overview and Listener views place them.
func TestLookOverview(t *testing.T) {
	for _, th := range themes {
		c, d, tb, sl := NewStackedBars(), NewDonut(), NewTimeBars(), NewSparkline()
		c.Unit, d.Unit, tb.Unit, sl.Unit = "sessions", "sessions", "sessions", "msg/s"
		grid := container.NewGridWithRows(2,
			container.NewGridWithColumns(2, c, d),
			container.NewBorder(nil, sl, nil, nil, tb))
		cv := show(t, th.th, container.NewPadded(grid), fyne.NewSize(900, 560))
		c.SetData(append(tags, "SGTSDNS"), dirs, append(tagVal, []float64{900, 0, 2500}))
		d.SetData([]string{"https/443", "dns/53", "ssh/22", "ldap/389", "ntp/123"}, []float64{52000, 21000, 9000, 4000, 1200})
		tb.SetData(t0, time.Hour, hourly(72))
		sl.SetValues(hourly(120))
		savePNG(t, cv, "look-overview-"+th.name)
	}
}

// TestLookStress renders the awkward cases: hundreds of rows, a crowded
// legend, a month of hours, a single value and no data.
func TestLookStress(t *testing.T) {
	th := themes[0]
	many := make([]string, 300)
	vals := make([][]float64, 300)
	for i := range many {
		many[i] = "tag-" + string(rune('A'+i%26)) + "-" + Compact(float64(i))
		vals[i] = []float64{float64(300 - i), float64(i % 7 * 20), 5}
	}
	c := NewStackedBars()
	cv := show(t, th.th, c, fyne.NewSize(400, 300))
	c.SetData(many, dirs, vals)
	savePNG(t, cv, "stress-stacked-300")
	c.TopN = 12
	c.SetData(many, dirs, vals)
	savePNG(t, cv, "stress-stacked-top12")

	d := NewDonut()
	d.TopN = -1
	cv = show(t, th.th, d, fyne.NewSize(360, 150))
	labels := make([]string, 30)
	dv := make([]float64, 30)
	for i := range labels {
		labels[i], dv[i] = many[i], float64(30-i)
	}
	d.SetData(labels, dv)
	savePNG(t, cv, "stress-donut-30")
	d.SetData(labels[:1], dv[:1])
	savePNG(t, cv, "stress-donut-1")

	tb := NewTimeBars()
	cv = show(t, th.th, tb, fyne.NewSize(600, 180))
	tb.SetData(t0, time.Hour, hourly(24*30))
	savePNG(t, cv, "stress-timebars-month")
	tb.SetData(t0.Add(13*time.Hour), time.Hour, []float64{7})
	savePNG(t, cv, "stress-timebars-1")

	sl := NewSparkline()
	cv = show(t, th.th, sl, fyne.NewSize(200, 50))
	sl.SetValues([]float64{3})
	savePNG(t, cv, "stress-sparkline-1")
	sl.SetValues(nil)
	savePNG(t, cv, "stress-sparkline-0")
}
