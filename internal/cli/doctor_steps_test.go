package cli

import "context"

// The step-by-step view of a run that doctor_test.go uses: each step
// gathers the facts its check needs, in run's order, then evaluates the
// check from the table (a check whose dependency failed is skipped).

func (d *doctor) checkNamed(name string) checkResult {
	for i := range doctorChecks {
		if doctorChecks[i].name == name {
			return d.check(&doctorChecks[i])
		}
	}
	panic("no check " + name)
}

func (d *doctor) checkConfig(context.Context) checkResult {
	d.gatherConfig()
	return d.checkNamed("config")
}

func (d *doctor) checkToken(ctx context.Context) checkResult {
	d.gatherToken(ctx)
	return d.checkNamed("token")
}

func (d *doctor) checkAPI(ctx context.Context) checkResult {
	d.gatherAPI(ctx)
	return d.checkNamed("api")
}

func (d *doctor) checkKeyring(ctx context.Context) checkResult {
	d.startKeyringProbe()
	d.awaitKeyring(ctx)
	return d.checkNamed("keyring")
}

func (d *doctor) checkExpiry(context.Context) checkResult { return d.checkNamed("expiry") }

func (d *doctor) checkClock(context.Context) checkResult { return d.checkNamed("clock") }
