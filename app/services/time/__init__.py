"""Everything driven by the clock: waiting timers (claiming and firing, fire now, move), timer
start events, wake-ups of the scheduler, working-day transfers of the calendar and the Deputy
Chairmen's rotation terms."""
