"""What training, inference and the tools below them share at run time: the device, seeding,
speed options and the checkpoint format."""
