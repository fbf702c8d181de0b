package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// doAlarmOutput is an alarm as `do alarm` prints it.
type doAlarmOutput struct {
	ScheduledTime *int64 `json:"scheduled_time"`
	At            string `json:"at,omitempty"`
	Deleted       *bool  `json:"deleted,omitempty"`
	ServedBy      string `json:"served_by,omitempty"`
}

func alarmOutput(al client.DOAlarm) doAlarmOutput {
	out := doAlarmOutput{ScheduledTime: al.ScheduledTime, Deleted: al.Deleted, ServedBy: al.ServedBy}
	if al.ScheduledTime != nil {
		out.At = time.UnixMilli(*al.ScheduledTime).UTC().Format(time.RFC3339Nano)
	}
	return out
}

func printAlarm(a *app, al client.DOAlarm) error {
	out := alarmOutput(al)
	if a.jsonOutput() {
		return writeJSON(a.stdout, out)
	}
	switch {
	case out.Deleted != nil && *out.Deleted:
		_, err := fmt.Fprintln(a.stdout, "Deleted the alarm")
		return err
	case out.Deleted != nil:
		_, err := fmt.Fprintln(a.stdout, "No alarm was set")
		return err
	case out.ScheduledTime == nil:
		_, err := fmt.Fprintln(a.stdout, "No alarm")
		return err
	}
	_, err := fmt.Fprintf(a.stdout, "%s (%d)\n", out.At, *out.ScheduledTime)
	return err
}

// newDOAlarmCmd is `edgectl do alarm set|get|delete NS OBJ`.
func newDOAlarmCmd(a *app, f *doFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "alarm", Short: "Set, show and delete an object's alarm",
		Long: "An object has at most one alarm. When it falls due, the object's owner POSTs it to the " +
			"namespace's alarm_webhook, retrying with backoff (2 s doubling, 6 tries)."}
	var at string
	var in time.Duration
	set := &cobra.Command{
		Use: "set NS OBJ", Short: "Set the alarm (--at RFC3339 or --in DURATION)", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			when, err := alarmTime(at, in, time.Now())
			if err != nil {
				return err
			}
			return f.withObject(cmd, a, args[0], args[1], func(ctx context.Context, d *client.DO, ns string, o client.ObjectRef) error {
				al, err := d.SetAlarm(ctx, ns, o, when.UnixMilli())
				if err != nil {
					return err
				}
				return printAlarm(a, al)
			})
		},
	}
	set.Flags().StringVar(&at, "at", "", "alarm time, RFC 3339 (2030-01-02T15:04:05Z)")
	set.Flags().DurationVar(&in, "in", 0, "alarm time from now (30s, 5m)")
	cmd.AddCommand(set,
		&cobra.Command{
			Use: "get NS OBJ", Short: "Show the alarm", Args: cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				return f.withObject(cmd, a, args[0], args[1], func(ctx context.Context, d *client.DO, ns string, o client.ObjectRef) error {
					al, err := d.GetAlarm(ctx, ns, o)
					if err != nil {
						return err
					}
					return printAlarm(a, al)
				})
			},
		},
		&cobra.Command{
			Use: "delete NS OBJ", Short: "Delete the alarm", Args: cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				return f.withObject(cmd, a, args[0], args[1], func(ctx context.Context, d *client.DO, ns string, o client.ObjectRef) error {
					al, err := d.DeleteAlarm(ctx, ns, o)
					if err != nil {
						return err
					}
					return printAlarm(a, al)
				})
			},
		},
	)
	return cmd
}

// alarmTime is the time of --at or --in (exactly one).
func alarmTime(at string, in time.Duration, now time.Time) (time.Time, error) {
	switch {
	case at != "" && in != 0:
		return time.Time{}, errors.New("give --at or --in, not both")
	case at != "":
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			return time.Time{}, fmt.Errorf("--at: %w", err)
		}
		return t, nil
	case in < 0:
		return time.Time{}, errors.New("--in must not be negative")
	case in > 0:
		return now.Add(in), nil
	}
	return time.Time{}, errors.New("give the alarm time with --at RFC3339 or --in DURATION")
}
