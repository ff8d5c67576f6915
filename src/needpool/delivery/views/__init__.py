"""Pages of delivery: iterations and the roadmap, plans with tasks and Gantt, my tasks, acceptance, changes."""
