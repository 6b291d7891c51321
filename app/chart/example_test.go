package chart_test

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"

	"github.com/flowsleuth/flowsleuth/app/chart"
)

// Traffic per tag split by direction; tapping a segment filters the flows.
func ExampleStackedBars() {
	tags := []string{"SGTSWEB", "SGTSDB", "SGTSAPP"}
	dirs := []string{"inbound", "outbound", "intra"} // coloured by chart.DirectionColor
	bars := chart.NewStackedBars()
	bars.Unit = "sessions"
	bars.TopN = 15 // the rest merge into one "Other" row
	bars.OnTapped = func(tag, dir int) {
		if tag == chart.Other {
			return // the merged row: no single tag to filter on
		}
		fmt.Println("filter flows:", tags[tag], dirs[dir])
	}
	// On the Fyne goroutine (from background work: inside fyne.Do).
	bars.SetData(tags, dirs, [][]float64{{12400, 3000, 500}, {8000, 200, 4000}, {1500, 6500, 0}})
	_ = container.NewBorder(nil, nil, nil, nil, bars)
}

// Top services of a tag; beyond TopN slices merge into "Other".
func ExampleDonut() {
	services := []string{"https/443", "dns/53", "ssh/22"}
	donut := chart.NewDonut()
	donut.Unit = "sessions"
	donut.OnTapped = func(i int) {
		if i != chart.Other {
			fmt.Println("filter flows: service", services[i])
		}
	}
	donut.SetData(services, []float64{52000, 21000, 9000})
}

// Sessions per hour; tapping a bar filters the flows to that hour.
func ExampleTimeBars() {
	hours := chart.NewTimeBars()
	hours.Unit, hours.OverlayName = "sessions", "new conversations"
	hours.OnTapped = func(i int) {
		from, to := hours.Bucket(i)
		fmt.Println("filter flows:", from, to)
	}
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.Local)
	hours.SetData(start, time.Hour, []float64{120, 340, 560, 200})
	hours.SetOverlay([]float64{10, 40, 5, 0})
}

// A live rate fed from a background goroutine at 5 Hz.
func ExampleSparkline() {
	rate := chart.NewSparkline()
	rate.Unit = "msg/s"
	rate.Capacity = 120 // two minutes at one value per second
	go func() {
		for range time.Tick(200 * time.Millisecond) {
			v := 42.0                        // read the listener's counter here
			fyne.Do(func() { rate.Push(v) }) // widgets change on the Fyne goroutine only
		}
	}()
}

func ExampleCompact() {
	for _, v := range []float64{0, 950, 12400, 5.6e6, 1e12} {
		fmt.Print(chart.Compact(v), " ")
	}
	fmt.Println()
	// Output: 0 950 12.4k 5.6M 1T
}
